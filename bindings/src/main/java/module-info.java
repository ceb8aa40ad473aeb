/** Panama FFM bindings of libpanopt; internal to Panopt, exported only to its API module. */
module dev.panopt.bindings {
    exports dev.panopt.bindings to dev.panopt;
}
