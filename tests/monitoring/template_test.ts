/** Templates: placeholders, escapes, format specs, missing names, shell safety. */
import { assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import {
  checkTemplate,
  formatTemplate,
  placeholders,
  TemplateError,
} from "../../lib/monitoring/template.ts";

const PLACEHOLDERS: [string, string[]][] = [
  ["", []],
  ["no placeholders", []],
  ["{a}", ["a"]],
  ["{checkpoint_path}/iter_{checkpoint_iteration}/{checkpoint_path}", [
    "checkpoint_path",
    "checkpoint_iteration",
  ]],
  ["{backend.args.train_iters}", ["backend.args.train_iters"]],
  ["{{literal}} and {{{x}}}", ["x"]],
  ["iter_{it:07d} {name:s} {n:d}", ["it", "name", "n"]],
  [`python -c "import sys; sys.exit(0 if int('{it}') % 10000 == 0 else 1)"`, ["it"]],
];

for (const [t, expected] of PLACEHOLDERS) {
  Deno.test(`placeholders: ${JSON.stringify(t)}`, () => {
    assertEquals(placeholders(t), expected);
  });
}

const MALFORMED: [string, RegExp][] = [
  ["{a", /unclosed "\{"/],
  ["{a{b}", /unclosed "\{"/],
  ["a}", /single "\}"/],
  ["{a}}", /single "\}"/],
  ["{}", /empty placeholder/],
  ["{:d}", /empty placeholder/],
  ["{0}", /not a placeholder name/],
  ["{a[0]}", /not a placeholder name/],
  ["{a!r}", /not a placeholder name/],
  ["{a.}", /not a placeholder name/],
  ["{a:>10}", /format spec ":>10" is not supported/],
  ["{a:.2f}", /format spec ":.2f" is not supported/],
];

for (const [t, re] of MALFORMED) {
  Deno.test(`placeholders rejects ${JSON.stringify(t)}`, () => {
    assertThrows(() => placeholders(t), (e) => {
      assertEquals(e instanceof TemplateError, true);
      assertMatch(e.message, re);
      assertMatch(e.message, /^malformed template /);
    });
  });
}

const FORMAT: [string, Record<string, string | number | boolean | null>, string][] = [
  ["{{x}} {x}", { x: 1 }, "{x} 1"],
  ["}}{{", {}, "}{"],
  ["{a.b_c.d}", { "a.b_c.d": "v" }, "v"],
  ["iter_{it:07d}", { it: "500" }, "iter_0000500"],
  ["iter_{it:07d}", { it: 500 }, "iter_0000500"],
  ["{n:05d}", { n: -3 }, "-0003"],
  ["{n:d}/{s:s}", { n: 12, s: "x" }, "12/x"],
  ["{a} {b} {c} {d}", { a: null, b: true, c: false, d: 1.5 }, "None True False 1.5"],
];

for (const [t, ctx, expected] of FORMAT) {
  Deno.test(`formatTemplate: ${JSON.stringify(t)}`, () => {
    assertEquals(formatTemplate(t, ctx), expected);
  });
}

Deno.test("formatTemplate: a missing name lists the available names, sorted", () => {
  const e = assertThrows(() => formatTemplate("{output_dir}/{ckpt}", { output_dir: "/o", b: 1 }));
  assertEquals(e instanceof TemplateError, true);
  assertMatch(e.message, /no value for the placeholder \{ckpt\}/);
  assertMatch(e.message, /available: b, output_dir$/);
  // An undefined value counts as missing and is not listed.
  assertThrows(() => formatTemplate("{a}", { a: undefined, z: "1" }), (err) => {
    assertMatch(err.message, /\{a\}.*available: z$/);
  });
});

Deno.test("formatTemplate: lists at most 20 available names", () => {
  const ctx = Object.fromEntries(
    Array.from({ length: 25 }, (_, i) => [`k${String(i).padStart(2, "0")}`, i]),
  );
  const e = assertThrows(() => formatTemplate("{x}", ctx));
  assertMatch(e.message, /available: k00, k01, .*, k19 \(and 5 more\)$/);
});

Deno.test("formatTemplate: an integer spec refuses a non-integer value", () => {
  assertThrows(() => formatTemplate("{it:07d}", { it: "abc" }), (e) => {
    assertEquals(e instanceof TemplateError, true);
    assertMatch(e.message, /\{it\} \("abc"\) is not an integer/);
  });
});

for (const value of ["a;b", "$(x)", "a b", "it's", '"q"', "`x`", "a|b", "a\nb", "~", "a*"]) {
  Deno.test(`formatTemplate shellSafe refuses ${JSON.stringify(value)}`, () => {
    assertThrows(
      () => formatTemplate("convert {path}", { path: value }, { shellSafe: true }),
      (e) => {
        assertEquals(e instanceof TemplateError, true);
        assertMatch(e.message, /value of \{path\} .* contains characters unsafe in a shell string/);
        assertMatch(e.message, /use a list command/);
      },
    );
  });
}

Deno.test("formatTemplate shellSafe accepts paths, numbers and key=value", () => {
  const ctx = { path: "/ckpt/iter_0000500", it: 500, kv: "a=b,c:d@e%f+g-h" };
  assertEquals(
    formatTemplate("convert {path} --it {it} {kv}", ctx, { shellSafe: true }),
    "convert /ckpt/iter_0000500 --it 500 a=b,c:d@e%f+g-h",
  );
  // Only the substituted values are checked, not the template's own text.
  assertEquals(formatTemplate("a; b '{it}'", ctx, { shellSafe: true }), "a; b '500'");
});

Deno.test("checkTemplate: the unknown names, in order", () => {
  const known = new Set(["output_dir", "checkpoint_path"]);
  assertEquals(
    checkTemplate("{output_dir}/{x}/{checkpoint_path}/{y.z}/{x}", (n) => known.has(n)),
    ["x", "y.z"],
  );
  assertEquals(checkTemplate("{output_dir}", (n) => known.has(n)), []);
  assertThrows(() => checkTemplate("{oops", () => true));
});
