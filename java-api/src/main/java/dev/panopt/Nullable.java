package dev.panopt;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a parameter of the public API that accepts {@code null} (its Javadoc says what null means,
 * e.g. an attention mask: all ones). Every other parameter of a public method or constructor of
 * {@code dev.panopt}, {@code dev.panopt.tokenizer}, {@code dev.panopt.checkpoint} and {@code dev.panopt.hub} rejects null
 * with {@link NullPointerException}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.PARAMETER, ElementType.RECORD_COMPONENT})
public @interface Nullable {
}
