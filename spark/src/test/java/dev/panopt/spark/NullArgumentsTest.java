package dev.panopt.spark;

import com.google.common.testing.NullPointerTester;
import org.junit.jupiter.api.Test;

/**
 * Every public method and constructor rejects a null argument with NullPointerException (the
 * project's rule; {@link PanoptFunctions}, which needs a session, is checked in {@link LocalModeTest}).
 */
class NullArgumentsTest {
    static NullPointerTester tester() {
        return new NullPointerTester()
                .setDefault(PanoptTransformer.class, PanoptTransformer.classify())
                .setDefault(ModelLoadsAccumulator.class, new ModelLoadsAccumulator())
                .setDefault(ModelLoad.class, new ModelLoad("1", "host", "/m", "OptForCausalLM", 1, 0, 0, 0));
    }

    @Test
    void publicApiRejectsNulls() {
        NullPointerTester t = tester();
        t.testAllPublicStaticMethods(PanoptTransformer.class);
        t.testAllPublicInstanceMethods(PanoptTransformer.classify().option("model", "/m"));
        t.testAllPublicConstructors(ModelLoad.class);
        t.testAllPublicInstanceMethods(new ModelLoadsAccumulator());
        t.testAllPublicInstanceMethods(new PanoptPlugin());
    }
}
