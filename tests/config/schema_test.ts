/** Schema validation: every problem reported with key path, position and allowed values. */
import { assertEquals, assertMatch } from "../_assert.ts";
import { objectKeysAt, validateConfig } from "../../lib/config/schema/mod.ts";
import { slurmSchema } from "../../lib/config/schema/slurm.ts";
import { formatSlurmTime, parseSlurmTime } from "../../lib/config/schema/sbatch_options.ts";
import type { ConfigMap } from "../../lib/config/tree.ts";

const origin = (
  p: string,
) => (p.startsWith("slurm") ? { file: "slurm/x.yaml", line: 3, column: 5 } : undefined);
const valid: ConfigMap = { project: { name: "p", base_output_dir: "/out" } };

Deno.test("validateConfig accepts a valid config and names a missing required group", () => {
  assertEquals(validateConfig(valid, origin, ["project"]), []);
  const [p] = validateConfig({}, origin, ["project"]);
  assertEquals(p.path, "project");
  assertMatch(p.message, /the "project" group is missing/);
});

Deno.test("validateConfig reports every problem with path, file and position", () => {
  const problems = validateConfig({
    ...valid,
    slurm: {
      sbatch: { partiton: "x", nodes: -1, time: "2 hours", mem: "lots" },
      array: { throttle: 0 },
    },
  }, origin);
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
  assertEquals(Object.keys(byPath).sort(), [
    "slurm.array.throttle",
    "slurm.sbatch.mem",
    "slurm.sbatch.nodes",
    "slurm.sbatch.partiton",
    "slurm.sbatch.time",
  ]);
  assertEquals(byPath["slurm.sbatch.partiton"].hint, 'did you mean "partition"?');
  assertEquals(byPath["slurm.sbatch.partiton"].file, "slurm/x.yaml");
  assertEquals(byPath["slurm.sbatch.partiton"].line, 3);
  assertMatch(byPath["slurm.sbatch.time"].message, /"2 hours" must be a SLURM time/);
  assertMatch(byPath["slurm.sbatch.mem"].message, /must be a size such as 64G/);
});

Deno.test("validateConfig lists allowed keys when nothing is close", () => {
  const [p] = validateConfig(
    { ...valid, project: { ...valid.project as ConfigMap, zzzzzz: 1 } },
    origin,
  );
  assertEquals(p.path, "project.zzzzzz");
  assertMatch(p.hint ?? "", /allowed keys: class_name, name, description, base_output_dir/);
});

Deno.test("validateConfig explains yes/no booleans under YAML 1.2", () => {
  const [p] = validateConfig({ ...valid, slurm: { launcher_env_passthrough: "yes" } }, origin);
  assertMatch(p.message, /expected a boolean, got "yes"/);
  assertMatch(p.hint ?? "", /write true or false/);
});

Deno.test("validateConfig rejects unsafe project names", () => {
  const [p] = validateConfig({ project: { name: "my run/1", base_output_dir: "/o" } }, origin);
  assertEquals(p.path, "project.name");
  assertMatch(p.message, /letters, digits/);
});

Deno.test("objectKeysAt walks optional, union and record schemas", () => {
  assertEquals(objectKeysAt(slurmSchema, ["array"]), ["enabled", "throttle"]);
  assertEquals(objectKeysAt(slurmSchema, ["sbatch"]).includes("partition"), true);
  assertEquals(objectKeysAt(slurmSchema, ["nope"]), []);
});

Deno.test("parseSlurmTime and formatSlurmTime agree on SLURM's formats", () => {
  const cases: [string | number, number, string][] = [
    ["30", 30, "00:30:00"],
    ["1:30", 1.5, "00:01:30"],
    ["02:00:00", 120, "02:00:00"],
    ["1-00", 1440, "1-00:00:00"],
    ["2-12:30", 3630, "2-12:30:00"],
    ["1-1:1:1", 1501 + 1 / 60, "1-01:01:01"],
    [90, 90, "01:30:00"],
    ["UNLIMITED", Infinity, "UNLIMITED"],
  ];
  for (const [input, minutes, formatted] of cases) {
    assertEquals(parseSlurmTime(input), minutes, `parse ${input}`);
    assertEquals(formatSlurmTime(minutes), formatted, `format ${minutes}`);
  }
});

Deno.test("SLURM times with minutes or seconds over 59 are refused", () => {
  for (const bad of ["99:99:99", "1:60:00", "2-12:75"]) {
    const [p] = validateConfig({ ...valid, slurm: { sbatch: { time: bad } } }, origin);
    assertEquals(p?.path, "slurm.sbatch.time", bad);
  }
  for (const good of ["99:59:59", "120", "2-12:30", "1-00:00:00"]) {
    assertEquals(validateConfig({ ...valid, slurm: { sbatch: { time: good } } }, origin), [], good);
  }
});
