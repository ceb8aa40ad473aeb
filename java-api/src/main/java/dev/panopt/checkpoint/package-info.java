/**
 * Hugging Face checkpoint directories and their weight formats: {@link dev.panopt.checkpoint.Checkpoint}
 * (config plus safetensors or PyTorch weight files, sharded or not, validated and memory-mapped),
 * {@link dev.panopt.checkpoint.SafetensorsFile} and {@link dev.panopt.checkpoint.SafetensorsWriter},
 * {@link dev.panopt.checkpoint.TensorInfo}, and {@link dev.panopt.checkpoint.CheckpointException} for
 * any malformed file. The PyTorch zip reader and its restricted pickle interpreter are package-private.
 */
package dev.panopt.checkpoint;
