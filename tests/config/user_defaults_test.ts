/**
 * The user-wide config layer (`$XDG_CONFIG_HOME/autoexp`): its presets overlay the built-in ones
 * under the `-C` directory, and its `defaults.yaml` sets values over what built-in presets wrote
 * (never over the `-C` files, a user-wide preset or `-o`), with sbatch values per partition.
 */
import { assertEquals, assertMatch } from "../_assert.ts";
import { composeConfig } from "../../lib/config/compose.ts";
import { type ConfigFile, ConfigFiles, type ConfigLayer } from "../../lib/config/files.ts";
import { parseOverride } from "../../lib/config/overrides.ts";
import { getPath } from "../../lib/config/tree.ts";
import { ConfigError } from "../../lib/errors.ts";

function layer(kind: ConfigLayer, tree: Record<string, string>): ConfigFile[] {
  const at =
    { builtin: "<builtin>", "user-wide": "/home/u/.config/autoexp", user: "/p/conf" }[kind];
  return Object.entries(tree).map(([relPath, text]) => ({
    relPath,
    text,
    origin: `${at}/${relPath}`,
    layer: kind,
  }));
}

const BUILTIN = {
  "autoexp.yaml": "defaults:\n  - slurm: base\n  - _self_\n",
  "slurm/base.yaml": 'sbatch: { partition: null, account: null, time: "01:00:00", nodes: 1 }\n',
};

const DEFAULTS = `config:
  slurm: { sbatch: { account: proj123, time: "02:00:00", nodes: 2 } }
  extra: { key: 1 }
partitions:
  gpu: { time: "24:00:00", cpus_per_task: 8 }
`;

function compose(user: Record<string, string>, wide: Record<string, string>, o: string[] = []) {
  const files = new ConfigFiles([
    layer("builtin", BUILTIN),
    layer("user-wide", wide),
    layer("user", user),
  ]);
  return composeConfig({ files, configName: "autoexp", overrides: o.map(parseOverride) });
}

const sbatch = (c: ReturnType<typeof compose>) => getPath(c.config, ["slurm", "sbatch"]);

Deno.test("user defaults: over the built-in presets, under the -C files and -o", () => {
  const c = compose(
    { "autoexp.yaml": "defaults:\n  - slurm: base\n  - _self_\nslurm: { sbatch: { nodes: 4 } }\n" },
    { "defaults.yaml": DEFAULTS },
    ["slurm.sbatch.account=mine"],
  );
  assertEquals(sbatch(c), { partition: null, account: "mine", time: "02:00:00", nodes: 4 });
  assertEquals(getPath(c.config, ["extra", "key"]), 1);
  assertEquals(c.origins.get("slurm.sbatch.time")?.file, "/home/u/.config/autoexp/defaults.yaml");
  assertEquals(c.origins.get("slurm.sbatch.time")?.line, 2);
  assertEquals(
    c.sources.at(-1),
    {
      group: "",
      option: "defaults",
      file: "/home/u/.config/autoexp/defaults.yaml",
      layer: "user-wide",
      package: "",
      via: "user-defaults",
    },
  );
});

Deno.test("user defaults: per partition, chosen by a file or by -o; the -C file still wins", () => {
  const wide = { "defaults.yaml": DEFAULTS };
  const byO = compose({}, wide, ["slurm.sbatch.partition=gpu"]);
  assertEquals(sbatch(byO), {
    partition: "gpu",
    account: "proj123",
    time: "24:00:00",
    nodes: 2,
    cpus_per_task: 8,
  });
  const own = compose(
    { "slurm/base.yaml": 'sbatch: { partition: gpu, time: "00:10:00" }\n' },
    wide,
  );
  assertEquals(sbatch(own), {
    partition: "gpu",
    time: "00:10:00",
    account: "proj123",
    nodes: 2,
    cpus_per_task: 8,
  });
  // No partition of the table: none of its values.
  assertEquals(
    (sbatch(compose({}, wide, ["slurm.sbatch.partition=cpu"])) as Record<string, unknown>)
      .cpus_per_task,
    undefined,
  );
});

Deno.test("user-wide presets overlay the built-in ones; -C overlays them", () => {
  const wide = {
    "slurm/base.yaml": 'sbatch: { partition: big, time: "05:00:00" }\n',
    "slurm/mine.yaml": "sbatch: { qos: q }\n",
  };
  const c = compose({}, wide);
  assertEquals(sbatch(c), { partition: "big", time: "05:00:00" });
  assertEquals(c.sources.map((s) => s.layer), ["user-wide", "builtin"]);
  assertEquals(sbatch(compose({}, wide, ["slurm=mine"])), { qos: "q" });
  const over = compose({ "slurm/base.yaml": "sbatch: { partition: p }\n" }, wide);
  assertEquals(sbatch(over), { partition: "p" });
  // A user-wide preset's value is the user's own: defaults.yaml does not replace it.
  const both = compose({}, { ...wide, "defaults.yaml": DEFAULTS });
  assertEquals((sbatch(both) as Record<string, unknown>).time, "05:00:00");
});

Deno.test("user defaults: an unknown section is a config error naming the file", () => {
  try {
    compose({}, { "defaults.yaml": "confg: { a: 1 }\npartitions: { gpu: 3 }\n" });
    throw new Error("expected a ConfigError");
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    assertMatch(e.message, /unknown section "confg" of defaults\.yaml; did you mean .config/);
    assertMatch(e.message, /\.config\/autoexp\/defaults\.yaml/);
    assertMatch(e.message, /partitions\.gpu must be a mapping/);
  }
});
