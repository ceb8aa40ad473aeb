package dev.panopt.hub;

import java.net.URI;

/**
 * What the hub's HEAD answer says of a file (huggingface_hub's {@code HfFileMetadata}): the commit
 * the revision resolves to ({@code X-Repo-Commit}), the ETag naming its blob ({@code X-Linked-Etag}
 * for LFS files, else {@code ETag}), its size ({@code X-Linked-Size}, else {@code Content-Length}),
 * where to GET it (the redirect's target for LFS files), and whether it is an LFS file.
 */
record FileMetadata(String commit, String etag, long size, URI location, boolean lfs) {}
