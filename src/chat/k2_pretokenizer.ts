// K2's pre-tokenizer: the regex that cuts text into pieces before BPE. The official pattern is in
// fancy-regex (Rust) syntax; JS needs a translation with the same meaning:
//   - `[A&&[^\p{Han}]]` class intersection → v-flag set difference `[[A]--\p{Script=Han}]`
//     (a bare `\p{Han}` in Rust's regex is the Script property);
//   - `(?i:'s|…)` → explicit case pairs (Node 20 has no inline modifiers); Unicode simple case
//     folding adds U+017F LATIN SMALL LETTER LONG S to `s`, and no other letter here has extras;
//   - `\s` → `\p{White_Space}` (Rust's \s; JS's \s adds U+FEFF and lacks U+0085);
//   - Unicode version: tiktoken's regex tables are Unicode 16.0, while V8's follow the ICU Node
//     ships (Unicode 17 in Node 20.20). Characters first assigned in Unicode 17 are taken out of
//     every class, and U+0295 (Ll in 16, Lo in 17) out of the upper-case class, so ids do not
//     depend on the Node version. On a runtime with Unicode 16 these corrections change nothing.
// Tests check every code point's classes against tiktoken, and ids on random multi-script text.

/** The official pat_str (tokenization_kimi.py), for tiktoken. */
export const K2_PAT_STR = [
  String.raw`[\p{Han}]+`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^\s\p{L}\p{N}]+[\r\n]*`,
  String.raw`\s*[\r\n]+`,
  String.raw`\s+(?!\S)`,
  String.raw`\s+`,
].join("|");

/** Letters, marks and digits new in Unicode 17 (derived by probing tiktoken's classes). */
const NEW_IN_UNICODE_17 = String.raw`[\u{88F}\u{C5C}\u{CDC}\u{1ACF}-\u{1ADD}\u{1AE0}-\u{1AEB}\u{A7CE}-\u{A7CF}\u{A7D2}\u{A7D4}\u{A7F1}\u{10940}-\u{10959}\u{10EC5}-\u{10EC7}\u{10EFA}-\u{10EFB}\u{11B60}-\u{11B67}\u{11DB0}-\u{11DDB}\u{11DE0}-\u{11DE9}\u{16EA0}-\u{16EB8}\u{16EBB}-\u{16ED3}\u{16FF2}-\u{16FF6}\u{187F8}-\u{187FF}\u{18D09}-\u{18D1E}\u{18D80}-\u{18DF2}\u{1E6C0}-\u{1E6DE}\u{1E6E0}-\u{1E6F5}\u{1E6FE}-\u{1E6FF}\u{2B73A}-\u{2B73F}\u{2CEA2}-\u{2CEAD}\u{323B0}-\u{33479}]`;

const S = String.raw`\p{White_Space}`;
const HAN = String.raw`[\p{Script=Han}--${NEW_IN_UNICODE_17}]`;
const UPPER = String.raw`[[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]--[\p{Script=Han}\u{295}${NEW_IN_UNICODE_17}]]`;
const LOWER = String.raw`[[\p{Ll}\p{Lm}\p{Lo}\p{M}]--[\p{Script=Han}${NEW_IN_UNICODE_17}]]`;
const LETTER_OR_DIGIT = String.raw`[[\p{L}\p{N}]--${NEW_IN_UNICODE_17}]`;
const DIGIT = String.raw`[\p{N}--${NEW_IN_UNICODE_17}]`;
const CONTRACTION = String.raw`(?:'[sS\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;

/** The character classes of the JS pattern, for tests that compare them with tiktoken's. */
export const K2_JS_CLASSES = { HAN, UPPER, LOWER, LETTER_OR_DIGIT, DIGIT, SPACE: S };

/** The same pattern for JavaScript (flags "gv"). */
export const K2_PAT_JS = [
  `${HAN}+`,
  String.raw`[^\r\n${LETTER_OR_DIGIT}]?${UPPER}*${LOWER}+${CONTRACTION}?`,
  String.raw`[^\r\n${LETTER_OR_DIGIT}]?${UPPER}+${LOWER}*${CONTRACTION}?`,
  String.raw`${DIGIT}{1,3}`,
  String.raw` ?[^${S}${LETTER_OR_DIGIT}]+[\r\n]*`,
  String.raw`${S}*[\r\n]+`,
  String.raw`${S}+(?![^${S}])`,
  `${S}+`,
].join("|");
