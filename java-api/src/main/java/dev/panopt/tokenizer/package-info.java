/**
 * OPT's tokenizer: {@link dev.panopt.tokenizer.OptTokenizer} (GPT-2 byte-level BPE as transformers' slow
 * tokenizer runs it) and what it returns: {@link dev.panopt.tokenizer.Encoding},
 * {@link dev.panopt.tokenizer.PairEncoding} and, shaped by {@link dev.panopt.tokenizer.EncodeOptions},
 * {@link dev.panopt.tokenizer.BatchEncoding}. Reading the tokenizer files, the id tables, encoding,
 * decoding and the BPE itself are package-private classes behind {@code OptTokenizer}.
 */
package dev.panopt.tokenizer;
