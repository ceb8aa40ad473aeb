/**
 * Helpers shared by Panopt's packages that are not API: the strict JSON parser and the decoder weight
 * layout. Not exported by module {@code dev.panopt}.
 */
package dev.panopt.internal;
