import { strict as assert } from "node:assert";
import YAML from "yaml";
import {
  detectPlatform,
  mergePlatformRules,
  parsePlatformRules,
  pathsToProbe,
  type PlatformFacts,
  type PlatformRule,
  PlatformRulesError,
} from "../../lib/platform/detect.ts";

const RULES_FILE = new URL("../../config/platform/rules.yaml", import.meta.url);
const builtin = parsePlatformRules(YAML.parse(await Deno.readTextFile(RULES_FILE)), "rules.yaml");

function facts(
  hostname: string,
  env: Record<string, string> = {},
  paths: string[] = [],
): PlatformFacts {
  return {
    hostname,
    env: { HOME: "/home/user", PATH: "/usr/bin", ...env },
    existingPaths: new Set(paths),
  };
}

Deno.test("parsePlatformRules accepts the built-in rules for every documented platform", () => {
  const names = new Set(builtin.map((r) => r.platform));
  for (
    const name of [
      "lumi",
      "leonardo",
      "juwels",
      "jupiter",
      "marenostrum",
      "bon_echo",
      "killarney",
      "base",
    ]
  ) {
    assert.ok(names.has(name), `missing built-in platform ${name}`);
  }
  assert.ok(builtin.every((r) => r.source === "rules.yaml"));
  assert.deepEqual(builtin.find((r) => r.platform === "base")?.match, []);
});

const cases: { name: string; facts: PlatformFacts; platform: string; matched: string }[] = [
  {
    name: "lumi login node with the LUMI software stack mounted",
    facts: facts("uan01", { LMOD_SYSTEM_NAME: "LUMI" }, ["/appl/lumi"]),
    platform: "lumi",
    matched: 'path "/appl/lumi" exists',
  },
  {
    name: "lumi compute node (generic nid name) found by its path",
    facts: facts("nid005123", { SLURM_JOB_ID: "7" }, ["/appl/lumi"]),
    platform: "lumi",
    matched: 'path "/appl/lumi" exists',
  },
  {
    name: "lumi from the host name alone (weak rule)",
    facts: facts("uan03"),
    platform: "lumi",
    matched: 'hostname "uan03" matches /^uan\\d+$/i',
  },
  {
    name: "leonardo login node, fully qualified",
    facts: facts("login02-ext.leonardo.cineca.it", {
      CINECA_SCRATCH: "/leonardo_scratch/large/userexternal/jdoe",
    }),
    platform: "leonardo",
    matched:
      'env CINECA_SCRATCH="/leonardo_scratch/large/userexternal/jdoe" matches /^\\/leonardo_scratch\\//i',
  },
  {
    name: "leonardo compute node",
    facts: facts("lrdn1234.leonardo.local", {}, ["/leonardo_work"]),
    platform: "leonardo",
    matched: 'path "/leonardo_work" exists',
  },
  {
    name: "juwels booster login node with SYSTEMNAME",
    facts: facts("jwlogin22.juwels", { SYSTEMNAME: "juwelsbooster" }),
    platform: "juwels",
    matched: 'env SYSTEMNAME="juwelsbooster" matches /^juwels/i',
  },
  {
    name: "juwels booster compute node by its host name",
    facts: facts("jwb0123.juwels"),
    platform: "juwels",
    matched: 'hostname "jwb0123.juwels" matches /^jwb\\d+/i',
  },
  {
    name: "jupiter with SYSTEMNAME",
    facts: facts("jpbl-s01-02", { SYSTEMNAME: "jupiter" }),
    platform: "jupiter",
    matched: 'env SYSTEMNAME="jupiter" matches /^jupiter/i',
  },
  {
    name: "marenostrum 5 ACC login node",
    facts: facts("alogin1", { BSC_MACHINE: "mn5" }),
    platform: "marenostrum",
    matched: 'env BSC_MACHINE="mn5" matches /^mn5$/i',
  },
  {
    name: "marenostrum 5 ACC compute node",
    facts: facts("as01r3b12"),
    platform: "marenostrum",
    matched: 'hostname "as01r3b12" matches /^as\\d+r\\d+b\\d+/i',
  },
  {
    name: "bon echo by its scratch file system",
    facts: facts("gpu042", {}, ["/scratch/ssd004"]),
    platform: "bon_echo",
    matched: 'path "/scratch/ssd004" exists',
  },
  {
    name: "killarney with the Alliance CC_CLUSTER variable",
    facts: facts("klogin01", { CC_CLUSTER: "killarney" }),
    platform: "killarney",
    matched: 'env CC_CLUSTER="killarney" matches /^killarney$/i',
  },
  {
    name: "killarney compute node",
    facts: facts("kn042"),
    platform: "killarney",
    matched: 'hostname "kn042" matches /^kn\\d+$/i',
  },
  {
    name: "a laptop falls back to base",
    facts: facts("my-laptop.local", { SLURM_CONF: "/etc/slurm/slurm.conf" }, []),
    platform: "base",
    matched: 'no rule matched; using the fallback "base"',
  },
  {
    name: "another site's CC_CLUSTER does not look like killarney",
    facts: facts("narval1.narval.calcul.quebec", { CC_CLUSTER: "narval" }),
    platform: "base",
    matched: 'no rule matched; using the fallback "base"',
  },
];

for (const c of cases) {
  Deno.test(`detectPlatform with built-in rules: ${c.name}`, () => {
    const d = detectPlatform(builtin, c.facts);
    assert.equal(d.platform, c.platform);
    assert.equal(d.matched, c.matched);
    // Realistic facts never point at two different platforms.
    assert.deepEqual(
      [...new Set(d.candidates.map((x) => x.platform))],
      d.via === "rule" ? [c.platform] : [],
    );
    if (c.platform === "base") {
      assert.equal(d.via, "fallback");
      assert.equal(d.rule?.platform, "base");
    } else {
      assert.equal(d.via, "rule");
      assert.equal(d.rule?.platform, c.platform);
    }
  });
}

// Seed 001's detect_platform.py: LUMI_PROJECT, LEONARDO_PROJECT, JUWELS_PROJECT name the platform.
for (
  const [variable, platform] of [
    ["LUMI_PROJECT", "lumi"],
    ["LEONARDO_PROJECT", "leonardo"],
    ["JUWELS_PROJECT", "juwels"],
    ["JUPITER_PROJECT", "jupiter"],
    ["MARENOSTRUM_PROJECT", "marenostrum"],
  ]
) {
  Deno.test(`detectPlatform with built-in rules: ${variable} alone names ${platform}`, () => {
    const d = detectPlatform(builtin, facts("login1", { [variable]: "project_465000123" }));
    assert.equal(d.platform, platform);
    assert.equal(d.via, "rule");
    assert.equal(d.matched, `env ${variable} is set ("project_465000123")`);
  });
}

Deno.test("detectPlatform: a project variable loses to the site's markers, beats a weak guess", () => {
  // A dotfile exporting LUMI_PROJECT everywhere does not make JUWELS look like LUMI.
  const onJuwels = detectPlatform(
    builtin,
    facts("jwlogin05", { SYSTEMNAME: "juwelsbooster", LUMI_PROJECT: "project_465000123" }),
  );
  assert.equal(onJuwels.platform, "juwels");
  assert.deepEqual(onJuwels.candidates.map((c) => c.platform), ["juwels", "lumi"]);
  // A generic HPE Cray login name (weak LUMI guess) with LEONARDO_PROJECT: the variable wins.
  assert.equal(
    detectPlatform(builtin, facts("uan02", { LEONARDO_PROJECT: "AIFAC_L01_028" })).platform,
    "leonardo",
  );
  // An empty variable is not set.
  assert.equal(detectPlatform(builtin, facts("login1", { JUWELS_PROJECT: "" })).platform, "base");
});

Deno.test("detectPlatform lists every matching matcher of the winning rule", () => {
  const d = detectPlatform(builtin, facts("uan01", { LMOD_SYSTEM_NAME: "lumi" }, ["/appl/lumi"]));
  assert.deepEqual(d.candidates.map((c) => [c.platform, c.priority, c.matched]), [
    ["lumi", 0, ['path "/appl/lumi" exists', 'env LMOD_SYSTEM_NAME="lumi" matches /^lumi$/i']],
    ["lumi", -10, ['hostname "uan01" matches /^uan\\d+$/i']],
  ]);
});

const rule = (platform: string, match: PlatformRule["match"], priority?: number): PlatformRule => ({
  platform,
  match,
  ...(priority !== undefined ? { priority } : {}),
});

Deno.test("detectPlatform tries higher priority first and keeps list order on ties", () => {
  const rules = [
    rule("first", [{ hostname: "^node" }]),
    rule("second", [{ hostname: "^node" }]),
    rule("urgent", [{ env: "X" }], 5),
    rule("unlikely", [{ hostname: "^node" }], -1),
  ];
  const table: [PlatformFacts, string][] = [
    [facts("node1"), "first"],
    [facts("node1", { X: "1" }), "urgent"],
    [facts("other", { X: "" }), "base"],
  ];
  for (const [f, expected] of table) assert.equal(detectPlatform(rules, f).platform, expected);
  assert.deepEqual(
    detectPlatform(rules, facts("node1", { X: "1" })).candidates.map((c) => c.platform),
    [
      "urgent",
      "first",
      "second",
      "unlikely",
    ],
  );
});

Deno.test("detectPlatform matches the short host name and is case-insensitive", () => {
  const rules = [rule("site", [{ hostname: "^LOGIN\\d+$" }])];
  assert.equal(
    detectPlatform(rules, facts("login3.example.org")).matched,
    'hostname "login3" matches /^LOGIN\\d+$/i',
  );
  assert.equal(detectPlatform(rules, facts("")).platform, "base");
});

Deno.test("detectPlatform uses the fallback given, with no rule if none is named so", () => {
  const d = detectPlatform([rule("a", [{ env: "A" }])], facts("h"), "generic");
  assert.deepEqual([d.platform, d.rule, d.via], ["generic", null, "fallback"]);
});

Deno.test("detectPlatform: AUTOEXP_PLATFORM overrides every rule", () => {
  const d = detectPlatform(
    builtin,
    facts("uan01", { AUTOEXP_PLATFORM: "leonardo" }, ["/appl/lumi"]),
  );
  assert.equal(d.platform, "leonardo");
  assert.equal(d.via, "override");
  assert.equal(d.rule?.platform, "leonardo");
  assert.equal(d.matched, 'AUTOEXP_PLATFORM="leonardo" is set (overrides detection)');
  assert.equal(
    d.candidates[0].platform,
    "lumi",
    "what detection would have said is still reported",
  );

  const unknown = detectPlatform(builtin, facts("h", { AUTOEXP_PLATFORM: "mycluster" }));
  assert.deepEqual([unknown.platform, unknown.rule], ["mycluster", null]);
  assert.equal(detectPlatform(builtin, facts("h", { AUTOEXP_PLATFORM: "" })).platform, "base");
});

Deno.test("mergePlatformRules puts user rules first and lets them shadow a built-in platform", () => {
  const user = parsePlatformRules(
    YAML.parse(`
rules:
  - platform: lumi
    description: our LUMI test partition
    match:
      - hostname: '^lumi-test'
  - platform: mylab
    match:
      - path_exists: /lab/shared
`),
    "user.yaml",
  );
  const merged = mergePlatformRules(builtin, user);
  assert.deepEqual(merged.slice(0, 2), user);
  assert.equal(
    merged.filter((r) => r.platform === "lumi").length,
    1,
    "every built-in lumi rule is gone",
  );
  const builtinLumi = builtin.filter((r) => r.platform === "lumi").length;
  assert.equal(merged.length, builtin.length - builtinLumi + 2);

  // The built-in LUMI markers no longer apply; the user's do.
  assert.equal(detectPlatform(merged, facts("uan01", {}, ["/appl/lumi"])).platform, "base");
  const d = detectPlatform(merged, facts("lumi-test1"));
  assert.deepEqual([d.platform, d.rule?.source, d.rule?.description], [
    "lumi",
    "user.yaml",
    "our LUMI test partition",
  ]);
  assert.equal(detectPlatform(merged, facts("ws1", {}, ["/lab/shared"])).platform, "mylab");
});

Deno.test("mergePlatformRules: a user rule wins a priority tie against a built-in rule", () => {
  const user = [rule("mine", [{ path_exists: "/appl/lumi" }])];
  assert.equal(
    detectPlatform(mergePlatformRules(builtin, user), facts("x", {}, ["/appl/lumi"])).platform,
    "mine",
  );
});

Deno.test("pathsToProbe returns every path_exists path once, in order", () => {
  const rules = [
    rule("a", [{ path_exists: "/a" }, { hostname: "x" }, { path_exists: "/b" }]),
    rule("b", [{ path_exists: "/a" }, { path_exists: "/c" }]),
  ];
  assert.deepEqual(pathsToProbe(rules), ["/a", "/b", "/c"]);
  const builtinPaths = pathsToProbe(builtin);
  for (const p of ["/appl/lumi", "/leonardo", "/leonardo_work", "/scratch/ssd004"]) {
    assert.ok(builtinPaths.includes(p), p);
  }
});

Deno.test("parsePlatformRules accepts an empty document and optional fields", () => {
  assert.deepEqual(parsePlatformRules(null, "empty.yaml"), []);
  assert.deepEqual(parsePlatformRules({ rules: [{ platform: "x" }] }, "f.yaml"), [
    { platform: "x", match: [], source: "f.yaml" },
  ]);
});

Deno.test("parsePlatformRules reports every problem with its key path", () => {
  const data = YAML.parse(`
rules:
  - platform: ok
    match:
      - env: GOOD
        env_pattern: '^x$'
  - platform: 42
    priority: high
    matches: []
  - platform: bad
    match:
      - hostname: '('
      - env_pattern: 'x'
      - hostname: a
        path_exists: /b
      - path_exists: relative/path
      - env: 'NOT A NAME'
      - {}
      - just a string
  - description: no name
  - 7
`);
  let error: unknown;
  try {
    parsePlatformRules(data, "bad.yaml");
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof PlatformRulesError);
  assert.ok(error instanceof Error);
  assert.equal(error.source, "bad.yaml");
  assert.deepEqual(error.issues.map((i) => i.path), [
    "rules[1].matches",
    "rules[1].platform",
    "rules[1].priority",
    "rules[2].match[0].hostname",
    "rules[2].match[1]",
    "rules[2].match[1].env_pattern",
    "rules[2].match[2]",
    "rules[2].match[3].path_exists",
    "rules[2].match[4].env",
    "rules[2].match[5]",
    "rules[2].match[6]",
    "rules[3].platform",
    "rules[4]",
  ]);
  const messages = Object.fromEntries(error.issues.map((i) => [i.path, i.message]));
  assert.equal(messages["rules[2].match[0].hostname"], 'invalid regex "(" (Unterminated group)');
  assert.match(messages["rules[1].matches"], /did you mean `match`\?/);
  assert.match(messages["rules[1].platform"], /got 42\b/);
  assert.match(messages["rules[2].match[2]"], /not hostname and path_exists/);
  assert.match(error.message, /^Fix the platform rules in bad\.yaml: 13 problems\n/);
  assert.match(
    error.message,
    /\n {2}rules\[2\]\.match\[0\]\.hostname: invalid regex "\(" \(Unterminated group\)/,
  );
});

Deno.test("parsePlatformRules rejects a document that is not a rules mapping", () => {
  const table: [unknown, string[]][] = [
    [["platform: x"], ["(top level)"]],
    [{ rules: { platform: "x" } }, ["rules"]],
    [{ rule: [], rules: [] }, ["rule"]],
  ];
  for (const [data, paths] of table) {
    assert.throws(
      () => parsePlatformRules(data, "f.yaml"),
      (e: unknown) =>
        e instanceof PlatformRulesError && e.issues.map((i) => i.path).join() === paths.join(),
    );
  }
});
