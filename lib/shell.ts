/**
 * Shell quoting for rendered scripts, and word splitting for command prefixes users write as
 * one string (`srun --cpu-bind=none`). Quoting is the only way data enters a script: every value
 * is single-quoted, so spaces, quotes, `$`, backticks and newlines never execute.
 *
 * @module
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes a string for bash so it is read back as exactly one word with the same bytes.
 *
 * @example shellQuote("it's $HOME") // 'it'\''s $HOME'
 */
export function shellQuote(s: string): string {
  if (s !== "" && SAFE.test(s)) return s;
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(" ");
}

/**
 * Splits a command string into words the way a POSIX shell would, without expanding anything:
 * single and double quotes group, backslash escapes, no variables, globs or substitutions.
 *
 * @throws {Error} for an unterminated quote.
 * @example splitShellWords(`srun --cpu-bind="mask_cpu:0x1" -l`) // ["srun", "--cpu-bind=mask_cpu:0x1", "-l"]
 */
export function splitShellWords(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in "${s}"`);
      cur += s.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === "\\" && j + 1 < s.length && '"\\$`'.includes(s[j + 1])) {
          cur += s[j + 1];
          j++;
        } else cur += s[j];
      }
      if (j >= s.length) throw new Error(`unterminated " in "${s}"`);
      i = j;
      inWord = true;
    } else if (c === "\\" && i + 1 < s.length) {
      cur += s[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}
