package dev.panopt.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link RepoRef}: huggingface_hub's repository id rules and safe revisions. */
class RepoRefTest {
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void parsesIdsWithAndWithoutRevision() {
        assertEquals(new RepoRef("facebook/opt-125m", "main"), RepoRef.parse("facebook/opt-125m"));
        assertEquals(new RepoRef("facebook/opt-125m", "v1.0"), RepoRef.parse("facebook/opt-125m@v1.0"));
        assertEquals(new RepoRef("gpt2", "refs/pr/1"), RepoRef.parse("gpt2@refs/pr/1"));
        assertEquals("facebook/opt-125m", RepoRef.of("facebook/opt-125m").toString());
        assertEquals("facebook/opt-125m@" + COMMIT, RepoRef.parse("facebook/opt-125m@" + COMMIT).toString());
        assertTrue(RepoRef.parse("a/b@" + COMMIT).isCommit());
        assertFalse(RepoRef.parse("a/b@" + COMMIT.toUpperCase()).isCommit());
        assertFalse(RepoRef.parse("a/b@main").isCommit());
        assertEquals("v2", RepoRef.of("a/b").withRevision("v2").revision());
    }

    @Test
    void rejectsWhatHuggingFaceHubRejectsAndUnsafeRevisions() {
        for (String bad : new String[] {"", "a/b/c", "/a", "a/", "-a/b", "a/b-", "a--b/c", "a/b..c", "a/b.git", "a b/c",
                "a/" + "x".repeat(97), "../x", "a/b@", "a/b@../x", "a/b@x/../y", "a/b@x:y", "a/b@a b", "a/b@.hidden",
                "a/b@x\u0000"}) {
            assertThrows(IllegalArgumentException.class, () -> RepoRef.parse(bad), bad);
            assertEquals(Optional.empty(), RepoRef.tryParse(bad), bad);
        }
        assertTrue(RepoRef.tryParse("a/" + "x".repeat(96)).isPresent());
        assertTrue(RepoRef.tryParse("user_1/My.Model-2").isPresent());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RepoRef.parse("a/b@x\u0001"));
        assertTrue(e.getMessage().contains("U+0001"), e.getMessage());
        assertFalse(e.getMessage().contains("\u0001"), "control characters are escaped in messages");
    }

    @Test
    void revisionsAndFileNamesArePercentEncodedAsPythonsQuote() {
        assertEquals("refs%2Fpr%2F1", HubHttp.encode("refs/pr/1", false));
        assertEquals("sub/dir/a%20b%2Bc~%C3%A9.json", HubHttp.encode("sub/dir/a b+c~é.json", true));
        assertEquals("facebook--opt-125m", HubCache.folderName(RepoRef.of("facebook/opt-125m")).substring(8));
        assertEquals("models--gpt2", HubCache.folderName(RepoRef.of("gpt2")));
        assertEquals("abc", HubHttp.normalizeEtag("W/\"abc\""));
        assertEquals("abc", HubHttp.normalizeEtag("\"abc\""));
    }
}
