// K2's pre-tokenizer: the regex that cuts text into pieces before BPE. The official pattern is in
// fancy-regex (Rust) syntax; JS needs a translation with the same meaning:
//   - `[A&&[^\p{Han}]]` class intersection → v-flag set difference `[[A]--\p{Script=Han}]`
//     (a bare `\p{Han}` in Rust's regex is the Script property);
//   - `(?i:'s|…)` → explicit case pairs (Node 20 has no inline modifiers); Unicode simple case
//     folding adds U+017F LATIN SMALL LETTER LONG S to `s`, and no other letter here has extras;
//   - `\s` → `\p{White_Space}` (Rust's \s; JS's \s adds U+FEFF and lacks U+0085).
// Tests check the translation against tiktoken's Rust core on random text of many scripts.

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

const S = String.raw`\p{White_Space}`;
const HAN = String.raw`\p{Script=Han}`;
const UPPER = String.raw`[[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]--${HAN}]`;
const LOWER = String.raw`[[\p{Ll}\p{Lm}\p{Lo}\p{M}]--${HAN}]`;
const CONTRACTION = String.raw`(?:'[sS\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;

/** The same pattern for JavaScript (flags "gv"). */
export const K2_PAT_JS = [
  `${HAN}+`,
  String.raw`[^\r\n\p{L}\p{N}]?${UPPER}*${LOWER}+${CONTRACTION}?`,
  String.raw`[^\r\n\p{L}\p{N}]?${UPPER}+${LOWER}*${CONTRACTION}?`,
  String.raw`\p{N}{1,3}`,
  String.raw` ?[^${S}\p{L}\p{N}]+[\r\n]*`,
  String.raw`${S}*[\r\n]+`,
  String.raw`${S}+(?![^${S}])`,
  `${S}+`,
].join("|");
