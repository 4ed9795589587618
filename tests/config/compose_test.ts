/**
 * Tests of `composeConfig`: Hydra's defaults list (ordering, `_self_`, nested defaults,
 * override entries, optional, null, packages, interpolated options), the overlay of built-in
 * presets by a user's directory, `-o` group and value overrides, origins, and the way every
 * problem is reported at once with a suggestion.
 *
 * File trees are built inline as layers of `ConfigFiles`; nothing touches the disk.
 */
import assert from "node:assert/strict";
import { composeConfig, type ComposeInput, type Composition } from "../../lib/config/compose.ts";
import { type ConfigFile, ConfigFiles, type ConfigLayer } from "../../lib/config/files.ts";
import { parseOverride } from "../../lib/config/overrides.ts";
import type { Resolver } from "../../lib/config/resolve.ts";
import { ConfigError, type ConfigProblem, UsageError } from "../../lib/errors.ts";

type Tree = Readonly<Record<string, string>>;

function layer(kind: ConfigLayer, tree: Tree): ConfigFile[] {
  return Object.entries(tree).map(([relPath, text]) => ({
    relPath,
    text,
    origin: kind === "builtin" ? `<builtin>/${relPath}` : `/home/u/conf/${relPath}`,
    layer: kind,
  }));
}

interface Run {
  readonly builtin: Tree;
  readonly user?: Tree;
  readonly overrides?: readonly string[];
  readonly configName?: string;
  readonly resolvers?: Readonly<Record<string, Resolver>>;
}

function compose(run: Run): Composition {
  const layers = [layer("builtin", run.builtin)];
  if (run.user) layers.push(layer("user", run.user));
  const input: ComposeInput = {
    files: new ConfigFiles(layers),
    configName: run.configName ?? "autoexp",
    overrides: (run.overrides ?? []).map(parseOverride),
    resolvers: run.resolvers,
  };
  return composeConfig(input);
}

/** Composes expecting a ConfigError; returns its problems. */
function problems(run: Run): readonly ConfigProblem[] {
  try {
    compose(run);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(run.overrides ?? [])}`);
}

/** Asserts that `text` contains every expected fragment. */
function includesAll(text: string, fragments: readonly string[], label: string): void {
  for (const f of fragments) assert.ok(text.includes(f), `${label}: "${f}" not in:\n${text}`);
}

/** One problem's searchable text: message and hint. */
function show(p: ConfigProblem): string {
  return `${p.message}\n${p.hint ?? ""}`;
}

// A small preset tree shaped like the product's: slurm presets extending base, more groups.
const PRESETS: Tree = {
  "autoexp.yaml": [
    "defaults:",
    "  - project: default",
    "  - slurm: lumi",
    "  - container: none",
    "  - _self_",
    "name: root",
    "",
  ].join("\n"),
  "project/default.yaml": "name: demo\noutput_dir: /scratch/out\n",
  "slurm/base.yaml": [
    "sbatch:",
    "  time: '01:00:00'",
    "  nodes: 1",
    "modules: [a, b, c]",
    "env: {}",
    "",
  ].join("\n"),
  "slurm/lumi.yaml": [
    "defaults:",
    "  - base",
    "  - _self_",
    "sbatch:",
    "  partition: standard-g",
    "  time: '02:00:00'",
    "",
  ].join("\n"),
  "slurm/juwels.yaml": "defaults: [base, _self_]\nsbatch:\n  partition: booster\n",
  "container/none.yaml": "kind: none\n",
  "container/apptainer.yaml": "kind: apptainer\nimage: img.sif\n",
  "experiment/long.yaml": [
    "# Long runs on JUWELS.",
    "# @package _global_",
    "defaults:",
    "  - override /slurm: juwels",
    "name: long",
    "slurm:",
    "  sbatch:",
    "    time: '24:00:00'",
    "",
  ].join("\n"),
};

// --- defaults ordering -------------------------------------------------------------------------

Deno.test("composeConfig: the position of _self_ decides whether the file or its defaults win", () => {
  const group = { "a/one.yaml": "v: from-group\nonly_group: 1\n" };
  const cases: { name: string; root: string; expected: unknown }[] = [
    {
      name: "_self_ last: the root wins",
      root: "defaults: [{a: one}, _self_]\na: {v: from-root}\n",
      expected: { a: { v: "from-root", only_group: 1 } },
    },
    {
      name: "_self_ first: the group wins",
      root: "defaults: [_self_, {a: one}]\na: {v: from-root}\n",
      expected: { a: { v: "from-group", only_group: 1 } },
    },
    {
      name: "no _self_: implicitly last (Hydra 1.1), the root wins",
      root: "defaults: [{a: one}]\na: {v: from-root}\n",
      expected: { a: { v: "from-root", only_group: 1 } },
    },
    {
      name: "no defaults list at all: just the file",
      root: "a: {v: from-root}\n",
      expected: { a: { v: "from-root" } },
    },
  ];
  for (const c of cases) {
    const { config } = compose({ builtin: { "autoexp.yaml": c.root, ...group } });
    assert.deepStrictEqual(config, c.expected, c.name);
  }
});

Deno.test("composeConfig: _self_ between two groups sits between them in merge order", () => {
  const { config, sources } = compose({
    builtin: {
      "autoexp.yaml":
        "# @package _global_\ndefaults:\n  - a: one\n  - _self_\n  - b: one\nv: root\n",
      "a/one.yaml": "# @package _global_\nv: a\n",
      "b/one.yaml": "# @package _global_\nv: b\n",
    },
  });
  assert.deepStrictEqual(config, { v: "b" });
  assert.deepStrictEqual(sources.map((s) => s.file), [
    "<builtin>/a/one.yaml",
    "<builtin>/autoexp.yaml",
    "<builtin>/b/one.yaml",
  ]);
});

Deno.test("composeConfig: groups merge in defaults-list order, later ones winning", () => {
  const { config } = compose({
    builtin: {
      "autoexp.yaml": "defaults:\n  - a: one\n  - b: one\n",
      "a/one.yaml": "# @package _global_\nshared: a\nfrom_a: 1\n",
      "b/one.yaml": "# @package _global_\nshared: b\nfrom_b: 2\n",
    },
  });
  assert.deepStrictEqual(config, { shared: "b", from_a: 1, from_b: 2 });
});

Deno.test("composeConfig: a group file's own defaults ([base, _self_]) and their order", () => {
  const cases: { name: string; lumi: string; expected: Record<string, unknown> }[] = [
    {
      name: "[base, _self_]: the preset refines base",
      lumi: "defaults: [base, _self_]\nsbatch: {time: '02:00:00'}\n",
      expected: { time: "02:00:00", nodes: 1 },
    },
    {
      name: "[_self_, base]: base wins over the preset",
      lumi: "defaults: [_self_, base]\nsbatch: {time: '02:00:00'}\n",
      expected: { time: "01:00:00", nodes: 1 },
    },
    {
      name: "[base]: _self_ implicitly last",
      lumi: "defaults: [base]\nsbatch: {time: '02:00:00'}\n",
      expected: { time: "02:00:00", nodes: 1 },
    },
  ];
  for (const c of cases) {
    const { config, choices, sources } = compose({
      builtin: { ...PRESETS, "slurm/lumi.yaml": c.lumi },
    });
    assert.deepStrictEqual((config.slurm as { sbatch: unknown }).sbatch, c.expected, c.name);
    // `base` is a plain config of the lumi preset, not a second choice of the group.
    assert.strictEqual(choices.slurm, "lumi", c.name);
    const slurmFiles = sources.filter((s) => s.group === "slurm").map((s) => s.file).sort();
    assert.deepStrictEqual(
      slurmFiles,
      ["<builtin>/slurm/base.yaml", "<builtin>/slurm/lumi.yaml"],
      c.name,
    );
  }
});

Deno.test("composeConfig: defaults nest several levels deep, each in its own order", () => {
  const { config, sources } = compose({
    builtin: {
      "autoexp.yaml": "defaults: [{slurm: lumi}, _self_]\n",
      "slurm/common.yaml": "level: common\nfrom_common: true\n",
      "slurm/base.yaml": "defaults: [common, _self_]\nlevel: base\nfrom_base: true\n",
      "slurm/lumi.yaml": "defaults: [base, _self_]\nlevel: lumi\n",
    },
  });
  assert.deepStrictEqual(config, {
    slurm: { level: "lumi", from_common: true, from_base: true },
  });
  assert.deepStrictEqual(sources.map((s) => s.file), [
    "<builtin>/slurm/common.yaml",
    "<builtin>/slurm/base.yaml",
    "<builtin>/slurm/lumi.yaml",
    "<builtin>/autoexp.yaml",
  ]);
});

Deno.test("composeConfig: the product-shaped preset tree composes with sources and choices", () => {
  const { config, choices, sources } = compose({ builtin: PRESETS });
  assert.deepStrictEqual(config, {
    project: { name: "demo", output_dir: "/scratch/out" },
    slurm: {
      sbatch: { time: "02:00:00", nodes: 1, partition: "standard-g" },
      modules: ["a", "b", "c"],
      env: {},
    },
    container: { kind: "none" },
    name: "root",
  });
  assert.deepStrictEqual(choices, { project: "default", slurm: "lumi", container: "none" });
  assert.deepStrictEqual(
    sources.map((s) => [s.group, s.option, s.package, s.via, s.file]),
    [
      ["project", "default", "project", "default", "<builtin>/project/default.yaml"],
      ["slurm", "lumi", "slurm", "default", "<builtin>/slurm/base.yaml"],
      ["slurm", "lumi", "slurm", "default", "<builtin>/slurm/lumi.yaml"],
      ["container", "none", "container", "default", "<builtin>/container/none.yaml"],
      ["", "", "", "root", "<builtin>/autoexp.yaml"],
    ],
  );
});

// --- overlay of presets by the user's directory -----------------------------------------------

Deno.test("composeConfig: the user layer replaces preset files one by one", () => {
  const { config, sources } = compose({
    builtin: PRESETS,
    user: {
      // Replaces the preset file entirely: its keys are not merged with the built-in lumi.yaml.
      "slurm/lumi.yaml": "defaults: [base, _self_]\nsbatch: {account: proj123}\n",
    },
  });
  assert.deepStrictEqual((config.slurm as Record<string, unknown>).sbatch, {
    time: "01:00:00",
    nodes: 1,
    account: "proj123",
  });
  const byFile = Object.fromEntries(sources.map((s) => [s.file, s.layer]));
  assert.deepStrictEqual(byFile, {
    "<builtin>/project/default.yaml": "builtin",
    "<builtin>/slurm/base.yaml": "builtin",
    "/home/u/conf/slurm/lumi.yaml": "user",
    "<builtin>/container/none.yaml": "builtin",
    "<builtin>/autoexp.yaml": "builtin",
  });
});

Deno.test("composeConfig: a user's root config and user-only groups", () => {
  const { config, choices, sources } = compose({
    builtin: PRESETS,
    user: {
      "autoexp.yaml": "defaults:\n  - slurm: juwels\n  - sweep: lr\n  - _self_\nname: mine\n",
      "sweep/lr.yaml": "axes: {lr: [0.1, 0.01]}\n",
    },
  });
  assert.deepStrictEqual(config, {
    slurm: {
      sbatch: { time: "01:00:00", nodes: 1, partition: "booster" },
      modules: ["a", "b", "c"],
      env: {},
    },
    sweep: { axes: { lr: [0.1, 0.01] } },
    name: "mine",
  });
  assert.deepStrictEqual(choices, { slurm: "juwels", sweep: "lr" });
  assert.deepStrictEqual(
    sources.map((s) => `${s.layer}:${s.file}`),
    [
      "builtin:<builtin>/slurm/base.yaml",
      "builtin:<builtin>/slurm/juwels.yaml",
      "user:/home/u/conf/sweep/lr.yaml",
      "user:/home/u/conf/autoexp.yaml",
    ],
  );
});

Deno.test("composeConfig: a user-only option of a preset group is selectable with -o", () => {
  const { config, sources } = compose({
    builtin: PRESETS,
    user: { "slurm/mycluster.yaml": "defaults: [base, _self_]\nsbatch: {partition: gpu}\n" },
    overrides: ["slurm=mycluster"],
  });
  assert.strictEqual(
    ((config.slurm as Record<string, unknown>).sbatch as Record<string, unknown>).partition,
    "gpu",
  );
  const mine = sources.find((s) => s.file.endsWith("mycluster.yaml"))!;
  assert.deepStrictEqual([mine.layer, mine.via, mine.option], [
    "user",
    "command-line",
    "mycluster",
  ]);
});

// --- group overrides from -o ------------------------------------------------------------------

Deno.test("composeConfig: group overrides change, add and remove groups", () => {
  const cases: {
    overrides: string[];
    choices: Record<string, unknown>;
    check?: (c: Composition) => void;
  }[] = [
    {
      overrides: ["slurm=juwels"],
      choices: { project: "default", slurm: "juwels", container: "none" },
    },
    {
      overrides: ["/slurm=juwels"],
      choices: { project: "default", slurm: "juwels", container: "none" },
    },
    {
      overrides: ["container=apptainer"],
      choices: { project: "default", slurm: "lumi", container: "apptainer" },
      check: (c) =>
        assert.deepStrictEqual(c.config.container, { kind: "apptainer", image: "img.sif" }),
    },
    {
      overrides: ["~container"],
      choices: { project: "default", slurm: "lumi", container: null },
      check: (c) => assert.ok(!("container" in c.config)),
    },
    {
      overrides: ["~container=none"],
      choices: { project: "default", slurm: "lumi", container: null },
    },
    {
      // `~group=` with nothing after "=" removes whatever is chosen.
      overrides: ["~container="],
      choices: { project: "default", slurm: "lumi", container: null },
    },
    {
      overrides: ["container=null"],
      choices: { project: "default", slurm: "lumi", container: null },
    },
    {
      overrides: ["+experiment=long"],
      choices: { project: "default", slurm: "juwels", container: "none", experiment: "long" },
    },
    {
      // `++group=x` changes a group that is in the defaults list...
      overrides: ["++slurm=juwels"],
      choices: { project: "default", slurm: "juwels", container: "none" },
    },
    {
      // ...and adds one that is not.
      overrides: ["++experiment=long"],
      choices: { project: "default", slurm: "juwels", container: "none", experiment: "long" },
    },
  ];
  for (const c of cases) {
    const composed = compose({ builtin: PRESETS, overrides: c.overrides });
    assert.deepStrictEqual(composed.choices, c.choices, c.overrides.join(" "));
    c.check?.(composed);
  }
});

Deno.test("composeConfig: -o group choices are reported as via command-line", () => {
  const { sources } = compose({
    builtin: PRESETS,
    overrides: ["slurm=juwels", "+experiment=long"],
  });
  const via = Object.fromEntries(sources.map((s) => [s.file, s.via]));
  assert.strictEqual(via["<builtin>/slurm/juwels.yaml"], "command-line");
  assert.strictEqual(via["<builtin>/experiment/long.yaml"], "default");
  assert.strictEqual(via["<builtin>/project/default.yaml"], "default");
});

Deno.test("composeConfig: bad group overrides are errors that say what to do", () => {
  const cases: { overrides: string[]; expect: string[] }[] = [
    {
      overrides: ["slurm=lumj"],
      expect: ['-o slurm=lumj: no option "lumj" in group "slurm"', '"slurm=lumi"', "available:"],
    },
    {
      overrides: ["slurm=LUMI"],
      expect: ['no option "LUMI"', 'did you mean "slurm=lumi"?'],
    },
    {
      // A mistyped group name is neither a group nor a key.
      overrides: ["slurn=lumi"],
      expect: ['-o slurn=lumi: no key "slurn" in the config\'s root', 'did you mean "slurm"?'],
    },
    {
      overrides: ["+experiment=lng"],
      expect: ['-o +experiment=lng: no option "lng" in group "experiment"', "experiment=long"],
    },
    {
      overrides: ["experiment=long"],
      expect: [
        'cannot override group "experiment" with -o experiment=long: it is not in the defaults list',
        "use -o +experiment=long",
      ],
    },
    {
      overrides: ["+slurm=juwels"],
      expect: [
        'cannot add group "slurm" with -o +slurm=juwels: it is already in the defaults list',
        "use -o slurm=juwels",
      ],
    },
    {
      overrides: ["~experiment"],
      expect: ['cannot remove group "experiment" (-o ~experiment): it is not in the defaults list'],
    },
    {
      overrides: ["~container=apptainer"],
      expect: [
        'cannot remove group "container" with -o ~container=apptainer: its option is "none"',
        "use -o ~container",
      ],
    },
  ];
  for (const c of cases) {
    const found = problems({ builtin: PRESETS, overrides: c.overrides });
    assert.strictEqual(found.length, 1, `${c.overrides}: ${found.map(show)}`);
    includesAll(show(found[0]), c.expect, c.overrides.join(" "));
  }
});

Deno.test("composeConfig: sweeps in -o need multirun", () => {
  assert.throws(
    () => compose({ builtin: PRESETS, overrides: ["slurm=lumi,juwels"] }),
    (e: unknown) => e instanceof UsageError && e.message.includes("sweeps need -m"),
  );
});

// --- override entries ---------------------------------------------------------------------------

Deno.test("composeConfig: an experiment with @package _global_ overrides groups and root values", () => {
  const { config, choices, sources } = compose({
    builtin: PRESETS,
    overrides: ["+experiment=long"],
  });
  assert.strictEqual(choices.slurm, "juwels");
  const slurm = config.slurm as { sbatch: Record<string, unknown> };
  assert.deepStrictEqual(slurm.sbatch, { time: "24:00:00", nodes: 1, partition: "booster" });
  // The root's implicit or explicit _self_ comes before groups added with +, as in Hydra.
  assert.strictEqual(config.name, "long");
  assert.ok(!("experiment" in config));
  const juwels = sources.find((s) => s.file === "<builtin>/slurm/juwels.yaml")!;
  assert.strictEqual(juwels.via, "override");
  const exp = sources.find((s) => s.group === "experiment")!;
  assert.strictEqual(exp.package, "");
});

Deno.test("composeConfig: +group lands after the root's implicit _self_", () => {
  const { config } = compose({
    builtin: {
      "autoexp.yaml": "defaults: [{a: one}]\nv: root\n",
      "a/one.yaml": "x: 1\n",
      "exp/e.yaml": "# @package _global_\nv: exp\n",
    },
    overrides: ["+exp=e"],
  });
  assert.strictEqual(config.v, "exp");
});

Deno.test("composeConfig: precedence of override entries and -o", () => {
  const cases: { overrides: string[]; slurm: string; via: string }[] = [
    { overrides: ["+experiment=long"], slurm: "juwels", via: "override" },
    // The command line beats an override entry, whatever the order of the -o options.
    { overrides: ["+experiment=long", "slurm=lumi"], slurm: "lumi", via: "command-line" },
    { overrides: ["slurm=lumi", "+experiment=long"], slurm: "lumi", via: "command-line" },
  ];
  for (const c of cases) {
    const { choices, sources } = compose({ builtin: PRESETS, overrides: c.overrides });
    assert.strictEqual(choices.slurm, c.slurm, c.overrides.join(" "));
    const last = sources.filter((s) => s.group === "slurm").at(-1)!;
    assert.strictEqual(last.via, c.via, c.overrides.join(" "));
  }
});

Deno.test("composeConfig: override entries in the root and in group files", () => {
  const { choices, config } = compose({
    builtin: {
      "autoexp.yaml": "defaults:\n  - server: apache\n  - override server/db: pg\n",
      "server/apache.yaml": "defaults:\n  - db: mysql\n  - _self_\nport: 80\n",
      "server/db/mysql.yaml": "driver: mysql\n",
      "server/db/pg.yaml": "driver: pg\n",
    },
  });
  assert.deepStrictEqual(choices, { server: "apache", "server/db": "pg" });
  assert.deepStrictEqual(config, { server: { db: { driver: "pg" }, port: 80 } });

  // A relative override inside the group file that holds the entry.
  const rel = compose({
    builtin: {
      "autoexp.yaml": "defaults: [{server: apache}]\n",
      "server/apache.yaml": "defaults:\n  - db: mysql\n  - override db: pg\n",
      "server/db/mysql.yaml": "driver: mysql\n",
      "server/db/pg.yaml": "driver: pg\n",
    },
  });
  assert.deepStrictEqual(rel.config, { server: { db: { driver: "pg" } } });
});

Deno.test("composeConfig: override entries settle when an overriding file overrides again", () => {
  // experiment -> override slurm: special -> slurm/special overrides the container.
  const { choices } = compose({
    builtin: {
      ...PRESETS,
      "slurm/special.yaml":
        "defaults:\n  - base\n  - override /container: apptainer\n  - _self_\nx: 1\n",
      "experiment/e.yaml": "# @package _global_\ndefaults:\n  - override /slurm: special\n",
    },
    overrides: ["+experiment=e"],
  });
  assert.deepStrictEqual(choices, {
    project: "default",
    slurm: "special",
    container: "apptainer",
    experiment: "e",
  });
});

Deno.test("composeConfig: an override entry for a group not in the defaults list is an error", () => {
  const found = problems({
    builtin: {
      ...PRESETS,
      "experiment/bad.yaml": "# @package _global_\ndefaults:\n  - override /sweep: big\n",
      "sweep/big.yaml": "axes: {}\n",
    },
    overrides: ["+experiment=bad"],
  });
  assert.strictEqual(found.length, 1);
  assert.strictEqual(found[0].file, "<builtin>/experiment/bad.yaml");
  assert.strictEqual(found[0].line, 3);
  includesAll(show(found[0]), ['"override sweep" matches no group', 'drop "override"'], "entry");
});

Deno.test("composeConfig: the same group twice in the defaults list is an error", () => {
  const found = problems({
    builtin: {
      "autoexp.yaml": "defaults:\n  - slurm: lumi\n  - slurm: juwels\n",
      "slurm/lumi.yaml": "a: 1\n",
      "slurm/juwels.yaml": "a: 2\n",
    },
  });
  assert.strictEqual(found.length, 1);
  includesAll(
    show(found[0]),
    ['group "slurm" appears more than once', "defaults[0]", "override slurm"],
    "dup",
  );
  assert.deepStrictEqual([found[0].file, found[0].line], ["<builtin>/autoexp.yaml", 3]);
});

// --- optional and null --------------------------------------------------------------------------

Deno.test("composeConfig: optional entries and null options", () => {
  const builtin: Tree = {
    "autoexp.yaml": [
      "defaults:",
      "  - optional site: local", // the option does not exist
      "  - optional nogroup: x", // the group does not exist
      "  - container: null",
      "  - _self_",
      "",
    ].join("\n"),
    "site/cluster.yaml": "where: cluster\n",
    "container/apptainer.yaml": "kind: apptainer\n",
  };
  const plain = compose({ builtin });
  assert.deepStrictEqual(plain.config, {});
  assert.deepStrictEqual(plain.choices, { site: null, nogroup: null, container: null });

  // A group whose default is null is still in the defaults list: -o may choose an option.
  const chosen = compose({ builtin, overrides: ["container=apptainer", "site=cluster"] });
  assert.deepStrictEqual(chosen.config, {
    site: { where: "cluster" },
    container: { kind: "apptainer" },
  });

  // `optional` forgives a missing file, not a typo on the command line.
  const typo = problems({ builtin, overrides: ["site=clustr"] });
  assert.strictEqual(typo.length, 1);
  includesAll(show(typo[0]), ['-o site=clustr: no option "clustr"', "site=cluster"], "typo");

  // Without `optional`, a missing option is an error at the entry's line.
  const missing = problems({
    builtin: { ...builtin, "autoexp.yaml": "defaults:\n  - site: local\n" },
  });
  assert.strictEqual(missing.length, 1);
  assert.deepStrictEqual(
    [missing[0].file, missing[0].line, missing[0].column, missing[0].path],
    ["<builtin>/autoexp.yaml", 2, 5, "defaults[0]"],
  );
  includesAll(show(missing[0]), ['no option "local" in group "site"', "available: cluster"], "m");
});

Deno.test("composeConfig: a group left as ??? must be chosen", () => {
  const builtin: Tree = {
    "autoexp.yaml": "defaults:\n  - slurm: ???\n",
    "slurm/lumi.yaml": "a: 1\n",
    "slurm/juwels.yaml": "a: 2\n",
  };
  const found = problems({ builtin });
  assert.strictEqual(found.length, 1);
  includesAll(
    show(found[0]),
    ['group "slurm" needs an option', "-o slurm=<option>", "juwels, lumi"],
    "???",
  );
  assert.deepStrictEqual(compose({ builtin, overrides: ["slurm=lumi"] }).config, {
    slurm: { a: 1 },
  });
});

// --- packages ---------------------------------------------------------------------------------

Deno.test("composeConfig: packages from @pkg, # @package headers and nesting (Hydra 1.1+)", () => {
  const cases: { name: string; tree: Tree; expected: unknown }[] = [
    {
      name: "default package is the group path",
      tree: { "autoexp.yaml": "defaults: [{db: mysql}]\n", "db/mysql.yaml": "host: m\n" },
      expected: { db: { host: "m" } },
    },
    {
      name: "group@pkg places the config at pkg",
      tree: {
        "autoexp.yaml": "defaults:\n  - db@src: mysql\n  - db@dst: pg\n",
        "db/mysql.yaml": "host: m\n",
        "db/pg.yaml": "host: p\n",
      },
      expected: { src: { host: "m" }, dst: { host: "p" } },
    },
    {
      name: "@_global_ merges at the root",
      tree: { "autoexp.yaml": "defaults: [{db@_global_: mysql}]\n", "db/mysql.yaml": "host: m\n" },
      expected: { host: "m" },
    },
    {
      name: "@_global_.x is x from the root",
      tree: {
        "autoexp.yaml": "defaults: [{db@_global_.x: mysql}]\n",
        "db/mysql.yaml": "host: m\n",
      },
      expected: { x: { host: "m" } },
    },
    {
      name: "# @package _global_ header",
      tree: {
        "autoexp.yaml": "defaults: [{db: mysql}]\n",
        "db/mysql.yaml": "# @package _global_\nhost: m\n",
      },
      expected: { host: "m" },
    },
    {
      name: "the header may follow a description comment",
      tree: {
        "autoexp.yaml": "defaults: [{db: mysql}]\n",
        "db/mysql.yaml": "# MySQL settings.\n\n# @package _global_\nhost: m\n",
      },
      expected: { host: "m" },
    },
    {
      name: "# @package a.b header",
      tree: {
        "autoexp.yaml": "defaults: [{db: mysql}]\n",
        "db/mysql.yaml": "# @package a.b\nhost: m\n",
      },
      expected: { a: { b: { host: "m" } } },
    },
    {
      name: "# @package _group_ is the default",
      tree: {
        "autoexp.yaml": "defaults: [{db: mysql}]\n",
        "db/mysql.yaml": "# @package _group_\nhost: m\n",
      },
      expected: { db: { host: "m" } },
    },
    {
      name: "an explicit @pkg beats the file's header",
      tree: {
        "autoexp.yaml": "defaults: [{db@backup: mysql}]\n",
        "db/mysql.yaml": "# @package _global_\nhost: m\n",
      },
      expected: { backup: { host: "m" } },
    },
    {
      name: "a header not at the top of the file is just a comment",
      tree: {
        "autoexp.yaml": "defaults: [{db: mysql}]\n",
        "db/mysql.yaml": "host: m\n# @package _global_\n",
      },
      expected: { db: { host: "m" } },
    },
    {
      name: "nested group: relative subgroup packages under the parent's package",
      tree: {
        "autoexp.yaml": "defaults: [{server: apache}]\n",
        "server/apache.yaml": "defaults:\n  - db: mysql\n  - db@src: mysql\nport: 80\n",
        "server/db/mysql.yaml": "host: m\n",
      },
      expected: { server: { db: { host: "m" }, src: { host: "m" }, port: 80 } },
    },
    {
      name: "a root entry for a nested group packages at its path",
      tree: {
        "autoexp.yaml": "defaults: [{server/db: mysql}]\n",
        "server/db/mysql.yaml": "h: m\n",
      },
      expected: { server: { db: { h: "m" } } },
    },
    {
      name: "a global group file's subgroups land at the root (parent package is empty)",
      tree: {
        "autoexp.yaml": "defaults: [{server: apache}]\n",
        "server/apache.yaml": "# @package _global_\ndefaults: [{db: mysql}]\nport: 80\n",
        "server/db/mysql.yaml": "host: m\n",
      },
      expected: { db: { host: "m" }, port: 80 },
    },
    {
      name: "a plain config entry with a folder packages at that folder",
      tree: { "autoexp.yaml": "defaults: [db/mysql, _self_]\n", "db/mysql.yaml": "host: m\n" },
      expected: { db: { host: "m" } },
    },
  ];
  for (const c of cases) {
    assert.deepStrictEqual(compose({ builtin: c.tree }).config, c.expected, c.name);
  }
});

Deno.test("composeConfig: +group@pkg=option from the command line", () => {
  const { config, sources } = compose({
    builtin: { "autoexp.yaml": "a: 1\n", "db/mysql.yaml": "host: m\n" },
    overrides: ["+db@backup=mysql"],
  });
  assert.deepStrictEqual(config, { a: 1, backup: { host: "m" } });
  assert.strictEqual(sources.find((s) => s.group === "db")!.package, "backup");
});

// --- nested groups and multi-option lists -------------------------------------------------------

Deno.test("composeConfig: nested groups, relative and absolute group paths", () => {
  const builtin: Tree = {
    "autoexp.yaml": "defaults:\n  - compute: killarney/l40s_1x\n  - _self_\n",
    "compute/killarney/base.yaml": "cluster: killarney\n",
    "compute/killarney/l40s_1x.yaml": [
      "defaults:",
      "  - base", // compute/killarney/base.yaml, same package
      "  - gpu: l40s", // relative: group compute/killarney/gpu
      "  - /container: apptainer", // absolute group path
      "  - _self_",
      "gpus: 1",
      "",
    ].join("\n"),
    "compute/killarney/h100_4x.yaml": "defaults: [base, _self_]\ngpus: 4\n",
    "compute/killarney/gpu/l40s.yaml": "model: L40S\n",
    "compute/killarney/gpu/h100.yaml": "model: H100\n",
    "container/apptainer.yaml": "kind: apptainer\n",
    "container/none.yaml": "kind: none\n",
  };
  const { config, choices } = compose({ builtin });
  // Packages are relative to the parent's package, as in Hydra: the relative subgroup and the
  // absolute /container both land under `compute`.
  assert.deepStrictEqual(config, {
    compute: {
      cluster: "killarney",
      gpu: { model: "L40S" },
      container: { kind: "apptainer" },
      gpus: 1,
    },
  });
  assert.deepStrictEqual(choices, {
    compute: "killarney/l40s_1x",
    "compute/killarney/gpu": "l40s",
    container: "apptainer",
  });

  // Nested options and nested groups can be chosen with -o.
  const other = compose({ builtin, overrides: ["compute/killarney/gpu=h100", "container=none"] });
  assert.deepStrictEqual((other.config.compute as Record<string, unknown>).gpu, { model: "H100" });
  assert.deepStrictEqual((other.config.compute as Record<string, unknown>).container, {
    kind: "none",
  });
  const h100 = compose({ builtin, overrides: ["compute=killarney/h100_4x"] });
  assert.deepStrictEqual(h100.config, { compute: { cluster: "killarney", gpus: 4 } });

  const typo = problems({ builtin, overrides: ["compute=killarney/l40s_2x"] });
  assert.strictEqual(typo.length, 1);
  includesAll(show(typo[0]), ['no option "killarney/l40s_2x"', "compute=killarney/l40s_1x"], "t");
});

Deno.test("composeConfig: a list of options selects several configs of one group", () => {
  const builtin: Tree = {
    "autoexp.yaml": "defaults:\n  - callbacks: [ckpt, log]\n",
    "callbacks/ckpt.yaml": "# @package _global_\ncallbacks: {ckpt: {every: 100}}\norder: ckpt\n",
    "callbacks/log.yaml": "# @package _global_\ncallbacks: {log: {level: info}}\norder: log\n",
  };
  const both = compose({ builtin });
  assert.deepStrictEqual(both.config, {
    callbacks: { ckpt: { every: 100 }, log: { level: "info" } },
    order: "log",
  });
  assert.deepStrictEqual(both.choices, { callbacks: ["ckpt", "log"] });
  const one = compose({ builtin, overrides: ["callbacks=[log]"] });
  assert.deepStrictEqual(one.choices, { callbacks: ["log"] });
  assert.deepStrictEqual(one.config, { callbacks: { log: { level: "info" } }, order: "log" });
});

// --- interpolated options -----------------------------------------------------------------------

Deno.test("composeConfig: an interpolated option resolves, falling back to base", () => {
  const builtin: Tree = {
    ...PRESETS,
    "autoexp.yaml": "defaults:\n  - slurm: ${platform:}\n  - _self_\n",
  };
  const platform = (name: unknown): Resolver => () => name as string | null;
  const cases: { platform: unknown; choice: string; via: string }[] = [
    { platform: "juwels", choice: "juwels", via: "default" },
    { platform: "lumi", choice: "lumi", via: "default" },
    { platform: "laptop", choice: "base", via: "fallback" },
    { platform: null, choice: "base", via: "fallback" },
  ];
  for (const c of cases) {
    const { choices, sources } = compose({
      builtin,
      resolvers: { platform: platform(c.platform) },
    });
    assert.strictEqual(choices.slurm, c.choice, String(c.platform));
    assert.strictEqual(sources.find((s) => s.group === "slurm")!.via, c.via, String(c.platform));
  }
  // -o still wins over the interpolated default.
  const cli = compose({
    builtin,
    resolvers: { platform: platform("lumi") },
    overrides: ["slurm=juwels"],
  });
  assert.strictEqual(cli.choices.slurm, "juwels");
});

Deno.test("composeConfig: interpolated options that cannot be used are errors", () => {
  const root = "defaults:\n  - slurm: ${platform:}\n";
  const cases: {
    name: string;
    tree: Tree;
    resolvers: Record<string, Resolver>;
    expect: string[];
  }[] = [
    {
      name: "no base to fall back to",
      tree: { "autoexp.yaml": root, "slurm/lumi.yaml": "a: 1\n" },
      resolvers: { platform: () => "laptop" },
      expect: ['no option "laptop" in group "slurm"'],
    },
    {
      name: "the resolver fails",
      tree: { "autoexp.yaml": root, "slurm/base.yaml": "a: 1\n" },
      resolvers: {
        platform: () => {
          throw new Error("rules.yaml is broken");
        },
      },
      expect: ['cannot resolve option "${platform:}" of group "slurm"', "rules.yaml is broken"],
    },
    {
      name: "no such resolver",
      tree: { "autoexp.yaml": root, "slurm/base.yaml": "a: 1\n" },
      resolvers: {},
      expect: ['cannot resolve option "${platform:}"', "platform"],
    },
  ];
  for (const c of cases) {
    const found = problems({ builtin: c.tree, resolvers: c.resolvers });
    assert.strictEqual(found.length, 1, c.name);
    includesAll(show(found[0]), c.expect, c.name);
    assert.deepStrictEqual([found[0].file, found[0].line], ["<builtin>/autoexp.yaml", 2], c.name);
  }
});

// --- value overrides ----------------------------------------------------------------------------

Deno.test("composeConfig: value overrides set, add, force and delete keys", () => {
  const sbatch = (c: Composition) => (c.config.slurm as Record<string, unknown>).sbatch;
  const slurm = (c: Composition) => c.config.slurm as Record<string, unknown>;
  const cases: { overrides: string[]; check: (c: Composition) => void }[] = [
    {
      overrides: ["slurm.sbatch.time=04:00:00"],
      check: (c) => assert.strictEqual((sbatch(c) as Record<string, unknown>).time, "04:00:00"),
    },
    {
      overrides: ["slurm.sbatch.nodes=4"],
      check: (c) => assert.strictEqual((sbatch(c) as Record<string, unknown>).nodes, 4),
    },
    {
      overrides: ["+slurm.sbatch.mem=0"],
      check: (c) => assert.strictEqual((sbatch(c) as Record<string, unknown>).mem, 0),
    },
    {
      // + creates the intermediate mappings.
      overrides: ["+extra.deep.key=x"],
      check: (c) => assert.deepStrictEqual(c.config.extra, { deep: { key: "x" } }),
    },
    {
      overrides: ["++slurm.sbatch.nodes=8", "++slurm.sbatch.gres=gpu:4"],
      check: (c) =>
        assert.deepStrictEqual(sbatch(c), {
          time: "02:00:00",
          nodes: 8,
          partition: "standard-g",
          gres: "gpu:4",
        }),
    },
    {
      overrides: ["~slurm.sbatch.partition"],
      check: (c) => assert.ok(!("partition" in (sbatch(c) as object))),
    },
    {
      overrides: ["~slurm.sbatch.nodes=1"],
      check: (c) => assert.ok(!("nodes" in (sbatch(c) as object))),
    },
    {
      overrides: ["~slurm.sbatch.nodes="],
      check: (c) => assert.ok(!("nodes" in (sbatch(c) as object))),
    },
    {
      overrides: ["slurm.modules[1]=x"],
      check: (c) => assert.deepStrictEqual(slurm(c).modules, ["a", "x", "c"]),
    },
    {
      overrides: ["slurm.modules.2=z"],
      check: (c) => assert.deepStrictEqual(slurm(c).modules, ["a", "b", "z"]),
    },
    {
      overrides: ["~slurm.modules[0]"],
      check: (c) => assert.deepStrictEqual(slurm(c).modules, ["b", "c"]),
    },
    {
      overrides: ["slurm.modules=[]"],
      check: (c) => assert.deepStrictEqual(slurm(c).modules, []),
    },
    {
      // A mapping set onto a mapping merges into it (OmegaConf.update(merge=True), as Hydra).
      overrides: ["slurm.sbatch={nodes: 2, account: p1}"],
      check: (c) =>
        assert.deepStrictEqual(sbatch(c), {
          time: "02:00:00",
          nodes: 2,
          partition: "standard-g",
          account: "p1",
        }),
    },
    {
      // A mapping over a scalar or null replaces it.
      overrides: ["name={a: 1}"],
      check: (c) => assert.deepStrictEqual(c.config.name, { a: 1 }),
    },
    {
      overrides: ["+slurm.env.X=${oc.env:HOME}"],
      check: (c) => assert.deepStrictEqual(slurm(c).env, { X: "${oc.env:HOME}" }),
    },
    {
      // Overrides apply in order.
      overrides: ["slurm.sbatch.nodes=2", "slurm.sbatch.nodes=3"],
      check: (c) => assert.strictEqual((sbatch(c) as Record<string, unknown>).nodes, 3),
    },
    {
      overrides: ["~slurm.sbatch", "+slurm.sbatch.time=1"],
      check: (c) => assert.deepStrictEqual(sbatch(c), { time: 1 }),
    },
  ];
  for (const c of cases) c.check(compose({ builtin: PRESETS, overrides: c.overrides }));
});

Deno.test("composeConfig: bad value overrides explain and suggest", () => {
  const cases: { override: string; path: string; expect: string[] }[] = [
    {
      override: "slurm.sbatch.partiton=gpu",
      path: "slurm.sbatch.partiton",
      expect: [
        '-o slurm.sbatch.partiton=gpu: no key "partiton" in slurm.sbatch',
        'did you mean "slurm.sbatch.partition"?',
      ],
    },
    {
      override: "slurm.sbatch.brandnew=1",
      path: "slurm.sbatch.brandnew",
      expect: ["no key", "to add a new key, use -o +slurm.sbatch.brandnew=1"],
    },
    {
      override: "nmae=x",
      path: "nmae",
      expect: ['no key "nmae" in the config\'s root', 'did you mean "name"?'],
    },
    {
      override: "expriment=long",
      path: "expriment",
      expect: ['no key "expriment" in the config\'s root', 'config group "experiment"'],
    },
    {
      override: "+slurm.sbatch.time=1",
      path: "slurm.sbatch.time",
      expect: ['key "slurm.sbatch.time" already exists', "-o slurm.sbatch.time=1", "++"],
    },
    {
      override: "~slurm.sbatch.nodes=2",
      path: "slurm.sbatch.nodes",
      expect: ["current value is 1, not 2", "use -o ~slurm.sbatch.nodes"],
    },
    {
      override: "~slurm.sbatch.nope",
      path: "slurm.sbatch.nope",
      expect: ['-o ~slurm.sbatch.nope: no key "nope" in slurm.sbatch'],
    },
    {
      override: "slurm.modules[7]=x",
      path: "slurm.modules[7]",
      expect: ['index 7 is out of range: "slurm.modules" has 3 items'],
    },
    {
      override: "+name.sub=1",
      path: "name.sub",
      expect: ['cannot set "name.sub": a parent is not a mapping'],
    },
    {
      override: "name@pkg=1",
      path: "name",
      expect: ['looks like a group override, but there is no config group "name"'],
    },
  ];
  for (const c of cases) {
    const found = problems({ builtin: PRESETS, overrides: [c.override] });
    assert.strictEqual(found.length, 1, c.override);
    assert.strictEqual(found[0].path, c.path, c.override);
    includesAll(show(found[0]), [`-o ${c.override}`, ...c.expect], c.override);
  }
});

// --- several problems at once ---------------------------------------------------------------

Deno.test("composeConfig: every problem is reported in one ConfigError", () => {
  const builtin: Tree = {
    ...PRESETS,
    "autoexp.yaml": [
      "defaults:",
      "  - project: defualt", // typo in a file
      "  - slurm: lumi",
      "  - container: none",
      "  - missing_plain", // no such config
      "  - _self_",
      "",
    ].join("\n"),
    "project/broken.yaml": "name: 'unclosed\n",
  };
  let error: ConfigError | undefined;
  try {
    compose({
      builtin,
      overrides: [
        "container=apptiner", // typo on the command line
        "slurm.sbatch.tmie=1", // unknown key
        "+slurm.sbatch.nodes=2", // exists already
      ],
    });
  } catch (e) {
    error = e as ConfigError;
  }
  assert.ok(error instanceof ConfigError);
  const messages = error.problems.map(show);
  assert.strictEqual(error.problems.length, 5, messages.join("\n---\n"));
  includesAll(messages.join("\n"), [
    'no option "defualt" in group "project"; did you mean "project=default"?',
    'defaults entry "missing_plain": no config "missing_plain.yaml"',
    '-o container=apptiner: no option "apptiner" in group "container"; did you mean "container=apptainer"?',
    'did you mean "slurm.sbatch.time"?',
    'key "slurm.sbatch.nodes" already exists',
  ], "all");
  assert.match(error.message, /^5 configuration problems:/);
  assert.match(error.message, /<builtin>\/autoexp\.yaml:2:5: defaults\[0\]: no option "defualt"/);

  // A YAML error in one file is one more problem, not the end of the report.
  const yamlToo = problems({ builtin, overrides: ["project=broken", "container=apptiner"] });
  assert.strictEqual(yamlToo.length, 3, yamlToo.map(show).join("\n---\n"));
  assert.deepStrictEqual(
    yamlToo.map((p) => [p.file, p.line]).filter(([f]) => f === "<builtin>/project/broken.yaml"),
    [["<builtin>/project/broken.yaml", 1]],
  );
});

Deno.test("composeConfig: a value override under a group that failed is not reported twice", () => {
  const found = problems({ builtin: PRESETS, overrides: ["slurm=lumj", "slurm.sbatch.time=1"] });
  assert.strictEqual(found.length, 1, found.map(show).join("\n"));
  includesAll(show(found[0]), ['no option "lumj"'], "one");
});

// --- structural errors ------------------------------------------------------------------------

Deno.test("composeConfig: structural errors of defaults lists and roots", () => {
  const cases: {
    name: string;
    tree: Tree;
    configName?: string;
    expect: string[];
    line?: number;
  }[] = [
    {
      name: "unknown root config",
      tree: { "autoexp.yaml": "a: 1\n", "experiments.yaml": "b: 1\n" },
      configName: "experimnts",
      expect: ['no root config "experimnts.yaml"', 'did you mean "experiments"?', "--config-name"],
    },
    {
      name: "defaults not a list",
      tree: { "autoexp.yaml": "defaults: {slurm: lumi}\n" },
      expect: ["defaults must be a list"],
      line: 1,
    },
    {
      name: "malformed entry",
      tree: { "autoexp.yaml": "defaults:\n  - {a: x, b: y}\n" },
      expect: ['malformed defaults entry {"a":"x","b":"y"}'],
      line: 2,
    },
    {
      name: "option must be a name",
      tree: { "autoexp.yaml": "defaults:\n  - slurm: {a: 1}\n", "slurm/x.yaml": "" },
      expect: ['option of "slurm" must be a name'],
      line: 2,
    },
    {
      name: "_self_ twice",
      tree: { "autoexp.yaml": "defaults:\n  - _self_\n  - _self_\n" },
      expect: ["_self_ appears more than once"],
      line: 3,
    },
    {
      name: "cycle",
      tree: {
        "autoexp.yaml": "defaults: [{a: one}]\n",
        "a/one.yaml": "defaults: [two]\n",
        "a/two.yaml": "defaults: [one]\n",
      },
      expect: ["defaults cycle: autoexp.yaml -> a/one.yaml -> a/two.yaml -> a/one.yaml"],
    },
    {
      name: "unknown group in a file",
      tree: { "autoexp.yaml": "defaults:\n  - slurn: lumi\n", "slurm/lumi.yaml": "" },
      expect: ['no config group "slurn"', 'did you mean "slurm"?'],
      line: 2,
    },
    {
      name: "a list as a config file",
      tree: { "autoexp.yaml": "defaults: [{a: one}]\n", "a/one.yaml": "- 1\n- 2\n" },
      expect: ["a config file must be a mapping, got a list"],
    },
  ];
  for (const c of cases) {
    const found = problems({ builtin: c.tree, configName: c.configName });
    assert.strictEqual(found.length, 1, `${c.name}: ${found.map(show)}`);
    includesAll(show(found[0]), c.expect, c.name);
    if (c.line !== undefined) assert.strictEqual(found[0].line, c.line, c.name);
  }
});

Deno.test("composeConfig: a number as an option names the file of that name", () => {
  const { config } = compose({
    builtin: { "autoexp.yaml": "defaults:\n  - model: 7\n", "model/7.yaml": "size: 7b\n" },
  });
  assert.deepStrictEqual(config, { model: { size: "7b" } });
});

// --- origins ----------------------------------------------------------------------------------

Deno.test("composeConfig: origins name the file, line and column that wrote each key", () => {
  const { origins } = compose({
    builtin: PRESETS,
    user: { "project/default.yaml": "name: mine\n\noutput_dir: /out\nlist:\n  - x\n  - y\n" },
    overrides: ["slurm.sbatch.nodes=2", "+experiment=long", "slurm.modules[1]=q"],
  });
  const cases: [string, unknown][] = [
    // The later file wins: juwels (chosen by the experiment) over base.
    ["slurm.sbatch.partition", { file: "<builtin>/slurm/juwels.yaml", line: 3, column: 14 }],
    // Written by the experiment file under `_global_`.
    ["slurm.sbatch.time", { file: "<builtin>/experiment/long.yaml", line: 8, column: 11 }],
    ["name", { file: "<builtin>/experiment/long.yaml", line: 5, column: 7 }],
    ["slurm.modules", { file: "<builtin>/slurm/base.yaml", line: 4, column: 10 }],
    ["project.output_dir", { file: "/home/u/conf/project/default.yaml", line: 3, column: 13 }],
    ["project.list[1]", { file: "/home/u/conf/project/default.yaml", line: 6, column: 5 }],
    ["slurm.sbatch.nodes", { file: "-o slurm.sbatch.nodes=2" }],
    ["slurm.modules[1]", { file: "-o slurm.modules[1]=q" }],
    // The mapping made for a package was written by no line.
    ["project", { file: "/home/u/conf/project/default.yaml" }],
  ];
  for (const [key, expected] of cases) {
    const got = origins.get(key);
    assert.deepStrictEqual(
      got && Object.fromEntries(Object.entries(got).filter(([, v]) => v !== undefined)),
      expected,
      key,
    );
  }
});

// Hydra 1.3's composition corners (hydra/_internal/defaults_list.py and config_loader_impl.py).

Deno.test("composeConfig: Hydra's rule 'Overrides must be at the end of the defaults list'", () => {
  const [p] = problems({
    builtin: {
      "autoexp.yaml": "defaults:\n  - override db: pg\n  - db: mysql\n  - _self_\n",
      "db/mysql.yaml": "driver: mysql\n",
      "db/pg.yaml": "driver: pg\n",
    },
  });
  assert.equal(p.path, "defaults[1]");
  includesAll(
    p.message,
    ['override "db: pg" is defined before "db: mysql"', "at the end"],
    "order",
  );
  // `_self_` after an override is fine, as in Hydra.
  const ok = compose({
    builtin: {
      "autoexp.yaml": "defaults:\n  - db: mysql\n  - override db: pg\n  - _self_\n",
      "db/mysql.yaml": "driver: mysql\n",
      "db/pg.yaml": "driver: pg\n",
    },
  });
  assert.deepEqual(ok.config, { db: { driver: "pg" } });
});

Deno.test("composeConfig: a defaults-list option interpolates group choices, after the command line (Hydra 1.1+)", () => {
  const tree = {
    "db/mysql.yaml": "driver: mysql\n",
    "db/pg.yaml": "driver: pg\n",
    "server/mysql_srv.yaml": "port: 3306\n",
    "server/pg_srv.yaml": "port: 5432\n",
  };
  const before = { ...tree, "autoexp.yaml": "defaults:\n  - db: mysql\n  - server: ${db}_srv\n" };
  assert.deepEqual(compose({ builtin: before }).config.server, { port: 3306 });
  assert.deepEqual(compose({ builtin: before, overrides: ["db=pg"] }).config.server, {
    port: 5432,
  });
  // The choice may come later in the list: Hydra resolves these after every group is chosen.
  const after = { ...tree, "autoexp.yaml": "defaults:\n  - server: ${db}_srv\n  - db: mysql\n" };
  assert.deepEqual(compose({ builtin: after, overrides: ["db=pg"] }).config, {
    server: { port: 5432 },
    db: { driver: "pg" },
  });
  const [p] = problems({
    builtin: { ...tree, "autoexp.yaml": "defaults:\n  - server: ${dbb}_srv\n" },
  });
  includesAll(p.message, ['cannot resolve option "${dbb}_srv"', '"dbb"'], "unknown choice");
});

Deno.test("composeConfig: Hydra's +key on a key holding null sets it; ~key on null is 'does not exist'", () => {
  const builtin = { "autoexp.yaml": "a: null\nb: 1\nm: {x: 1}\n" };
  assert.deepEqual(compose({ builtin, overrides: ["+a=3"] }).config.a, 3);
  // A mapping added onto a mapping merges (Hydra: OmegaConf.update(merge=True)).
  assert.deepEqual(compose({ builtin, overrides: ["+m={y: 2}"] }).config.m, { x: 1, y: 2 });
  includesAll(
    problems({ builtin, overrides: ["+b=2"] })[0].message,
    ['key "b" already exists'],
    "+b",
  );
  const [p] = problems({ builtin, overrides: ["~a"] });
  assert.equal(p.path, "a");
  includesAll(p.message, ["holds null", "nothing to delete"], "~a");
  assert.deepEqual(compose({ builtin, overrides: ["~b"] }).config, { a: null, m: { x: 1 } });
});

Deno.test("composeConfig: group=null on the command line drops the group (Hydra)", () => {
  const builtin = {
    "autoexp.yaml": "defaults:\n  - db: mysql\n  - _self_\nx: 1\n",
    "db/mysql.yaml": "driver: mysql\n",
  };
  const c = compose({ builtin, overrides: ["db=null"] });
  assert.deepEqual(c.config, { x: 1 });
  assert.equal(c.choices.db, null);
});
