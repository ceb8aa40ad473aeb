package dev.panopt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panopt.QuestionAnsweringOptions.SpanScore;
import org.junit.jupiter.api.Test;

/** The pipeline's span rule on hand-made logits. */
class SpanSearchTest {
    //                                   BOS    q     q    BOS   c     c     c     c
    static final boolean[] CONTEXT = {false, false, false, false, true, true, true, true};

    @Test
    void onlyContextTokensStartOrEndASpanAndEndNeverPrecedesStart() {
        float[] start = {9, 9, 9, 9, -9, 2, 0, 0};  // the question's huge logits do not count
        float[] end = {9, 9, 9, 9, 5, 0, 0, 1};     // end 4 would be best, but it is before start 5
        SpanSearch s = new SpanSearch(15, SpanScore.LOGIT_SUM);
        s.offer(0, start, end, CONTEXT);
        assertEquals(5, s.start());
        assertEquals(7, s.end());
        assertEquals(3.0, s.score());
    }

    @Test
    void maxAnswerLenBoundsTheSpan() {
        float[] start = {0, 0, 0, 0, 3, 0, 0, 0};
        float[] end = {0, 0, 0, 0, 0, 1, 0, 4};
        SpanSearch s = new SpanSearch(3, SpanScore.LOGIT_SUM);  // end <= start + 2
        s.offer(0, start, end, CONTEXT);
        assertEquals(4, s.start());
        assertEquals(5, s.end());
    }

    @Test
    void probabilitiesAreSoftmaxesOverTheWindowsContextTokens() {
        float[] start = {50, 50, 50, 50, 0, (float) Math.log(3), 0, 0};  // context softmax: 1/6, 3/6, 1/6, 1/6
        float[] end = {50, 50, 50, 50, 0, 0, 0, 0};                      // 1/4 each
        SpanSearch s = new SpanSearch(15, SpanScore.PROBABILITY);
        s.offer(0, start, end, CONTEXT);
        assertEquals(5, s.start());
        assertEquals(5, s.end());  // first of the equal ends
        assertEquals(0.5 * 0.25, s.score(), 1e-7);
    }

    @Test
    void windowsCompareByTheChosenScoreAndTheFirstWinsTies() {
        float[] flat = {0, 0, 0, 0, 1, 1, 1, 1};
        float[] peaked = {0, 0, 0, 0, 2, 0, 0, 0};
        SpanSearch p = new SpanSearch(15, SpanScore.PROBABILITY);
        p.offer(0, flat, flat, CONTEXT);
        p.offer(1, peaked, peaked, CONTEXT);   // higher probability, lower logit sum
        p.offer(2, peaked, peaked, CONTEXT);   // a tie: window 1 stays
        assertEquals(1, p.window());
        SpanSearch l = new SpanSearch(15, SpanScore.LOGIT_SUM);
        l.offer(0, flat, flat, CONTEXT);
        l.offer(1, peaked, peaked, CONTEXT);
        l.offer(2, peaked, peaked, CONTEXT);
        assertEquals(1, l.window());  // 2 + 2 > 1 + 1
        l.offer(3, new float[] {0, 0, 0, 0, 4, 0, 0, 0}, flat, CONTEXT);
        assertEquals(3, l.window());
    }
}
