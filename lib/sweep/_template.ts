/**
 * The syntax of run-name templates: literal text with `{field}` or `{field:spec}` placeholders,
 * and `{{` / `}}` for literal braces, as in Python's `str.format`.
 *
 * @module
 */

/** A piece of a parsed template: literal text, or a placeholder. */
export type TemplatePart =
  | { readonly text: string }
  | { readonly field: string; readonly spec: string | undefined; readonly offset: number };

/** A parsed template, or why it could not be parsed (with the zero-based offset). */
export type ParsedTemplate =
  | { readonly parts: readonly TemplatePart[] }
  | { readonly error: string; readonly offset: number };

/**
 * Splits a template into literal text and placeholders.
 *
 * @example
 * ```ts
 * parseTemplate("{model_size}_lr{lr}_{index:04d}");
 * // { parts: [{field: "model_size", ...}, {text: "_lr"}, {field: "lr", ...}, {text: "_"},
 * //           {field: "index", spec: "04d", ...}] }
 * ```
 */
export function parseTemplate(template: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    const ch = template[i];
    if (ch === "{" && template[i + 1] === "{") {
      text += "{";
      i += 2;
    } else if (ch === "}" && template[i + 1] === "}") {
      text += "}";
      i += 2;
    } else if (ch === "}") {
      return { error: 'single "}" (write "}}" for a literal brace)', offset: i };
    } else if (ch === "{") {
      const end = template.indexOf("}", i + 1);
      const nested = template.indexOf("{", i + 1);
      if (end < 0) return { error: 'unclosed "{" (write "{{" for a literal brace)', offset: i };
      if (nested >= 0 && nested < end) {
        return { error: "placeholders cannot be nested", offset: nested };
      }
      const body = template.slice(i + 1, end);
      const colon = body.indexOf(":");
      const field = colon < 0 ? body : body.slice(0, colon);
      if (field === "") {
        return {
          error: "empty placeholder (positional fields are not supported; name a key)",
          offset: i,
        };
      }
      if (text) parts.push({ text });
      text = "";
      parts.push({ field, spec: colon < 0 ? undefined : body.slice(colon + 1), offset: i });
      i = end + 1;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return { parts };
}
