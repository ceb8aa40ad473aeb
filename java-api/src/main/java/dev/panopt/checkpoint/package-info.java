/**
 * Hugging Face checkpoint directories, GGUF files and their weight formats: {@link dev.panopt.checkpoint.Checkpoint}
 * (config plus safetensors or PyTorch weight files, sharded or not, or one OPT GGUF file; validated and
 * memory-mapped), {@link dev.panopt.checkpoint.SafetensorsFile} and {@link dev.panopt.checkpoint.SafetensorsWriter},
 * {@link dev.panopt.checkpoint.GgufFile} and {@link dev.panopt.checkpoint.GgufWriter} (GGUF v3, with
 * {@link dev.panopt.checkpoint.GgufType} for its value types), {@link dev.panopt.checkpoint.OptGguf} (OPT's
 * mapping onto GGUF and the conversion), {@link dev.panopt.checkpoint.TensorInfo}, and
 * {@link dev.panopt.checkpoint.CheckpointException} for any malformed file. The PyTorch zip reader and its
 * restricted pickle interpreter are package-private.
 */
package dev.panopt.checkpoint;
