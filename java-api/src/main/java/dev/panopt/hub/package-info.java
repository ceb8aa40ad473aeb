/**
 * Models from the Hugging Face hub: {@link dev.panopt.hub.HubClient} finds a repository's files in
 * huggingface_hub's cache ({@code ~/.cache/huggingface/hub}, shared with Python) or downloads them
 * into it, configured by {@link dev.panopt.hub.HubOptions} (defaults from {@code HF_ENDPOINT},
 * {@code HF_TOKEN}, {@code HF_HUB_CACHE}, {@code HF_HUB_OFFLINE}, ...). A repository and revision is
 * a {@link dev.panopt.hub.RepoRef} ({@code org/name[@revision]}); failures are
 * {@link dev.panopt.hub.HubException}s with a reason. The models' and the tokenizer's
 * {@code fromPretrained(String)} resolve model ids through {@link dev.panopt.hub.HubClient#shared()}.
 */
package dev.panopt.hub;
