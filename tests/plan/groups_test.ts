/**
 * Tests of job grouping: `compressRanges`, `chunkIndices` (task ids stay below MaxArraySize),
 * `arraySpec` (offsets and throttle) and `groupRuns` (runs with equal script settings share an
 * array; single jobs otherwise).
 */
import { assert_, assertEquals } from "../_assert.ts";
import { arraySpec, chunkIndices, compressRanges, groupRuns } from "../../lib/plan/groups.ts";
import type { RunPlan, ScriptSettings } from "../../lib/plan/types.ts";

Deno.test("compressRanges: SLURM range syntax", () => {
  const cases: [number[], string][] = [
    [[], ""],
    [[0], "0"],
    [[0, 1], "0-1"],
    [[0, 1, 2, 5, 7, 8], "0-2,5,7-8"],
    [[3, 5, 7], "3,5,7"],
    [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], "0-9"],
    [[998, 999, 1000], "998-1000"],
  ];
  for (const [input, want] of cases) assertEquals(compressRanges(input), want, String(input));
});

Deno.test("chunkIndices: one chunk when every index is below max", () => {
  assertEquals(chunkIndices([0, 1, 2], 1001), [{ offset: 0, indices: [0, 1, 2] }]);
  assertEquals(chunkIndices([], 4), []);
});

Deno.test("chunkIndices: 10 indices with MaxArraySize 4 -> offsets 0, 4, 8", () => {
  const chunks = chunkIndices([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4);
  assertEquals(chunks, [
    { offset: 0, indices: [0, 1, 2, 3] },
    { offset: 4, indices: [4, 5, 6, 7] },
    { offset: 8, indices: [8, 9] },
  ]);
});

Deno.test("chunkIndices: task ids (index - offset) always stay below max", () => {
  const sparse = [0, 2, 3, 9, 10, 11, 40, 41, 1000, 1001, 2500];
  for (const max of [1, 2, 4, 10, 1001]) {
    const chunks = chunkIndices(sparse, max);
    assertEquals(chunks.flatMap((c) => c.indices), sparse, `max ${max} keeps every index`);
    for (const c of chunks) {
      assertEquals(c.offset, c.indices[0], "a chunk starts at its first index");
      for (const i of c.indices) assert_(i - c.offset < max, `task id ${i - c.offset} < ${max}`);
    }
  }
  // The chunk boundary is the first index that would reach max, not a fixed stride.
  assertEquals(chunkIndices([0, 2, 5, 6], 4), [
    { offset: 0, indices: [0, 2] },
    { offset: 5, indices: [5, 6] },
  ]);
});

Deno.test("arraySpec: task ids relative to the offset, with the throttle", () => {
  assertEquals(arraySpec([0, 1, 2, 3], 0, null), "0-3");
  assertEquals(arraySpec([0, 1, 2, 3], 0, 3), "0-3%3");
  assertEquals(arraySpec([8, 9], 8, 3), "0-1%3");
  assertEquals(arraySpec([4, 6, 7], 4, null), "0,2-3");
  assertEquals(arraySpec([0, 1, 2], 0, 0), "0-2", "a zero throttle is no throttle");
});

/** The task ids of an `--array` value (`0-3,7%2` -> [0, 1, 2, 3, 7]). */
function taskIds(spec: string): number[] {
  return spec.replace(/%\d+$/, "").split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    return Array.from({ length: (b ?? a) - a + 1 }, (_, k) => a + k);
  });
}

Deno.test("arraySpec and taskIds round-trip sparse indices", () => {
  const indices = [5, 6, 7, 9, 12, 13];
  assertEquals(taskIds(arraySpec(indices, 5, 4)).map((t) => t + 5), indices);
});

function script(over: Partial<ScriptSettings> = {}): ScriptSettings {
  return {
    resources: { time: "01:00:00", nodes: 1 },
    extraDirectives: [],
    modules: [],
    setup: [],
    shellEnv: {},
    ...over,
  };
}

function run(index: number, s: ScriptSettings = script()): RunPlan {
  return {
    index,
    name: `r${index}`,
    values: {},
    runDir: `/out/runs/r${index}`,
    logPath: `/out/runs/r${index}/logs/{job_id}.log`,
    argv: ["echo", String(index)],
    env: {},
    workdir: `/out/runs/r${index}`,
    script: s,
    nodes: 1,
    gpus: 0,
    minutes: 60,
    group: "",
    backend: "command",
    fingerprint: `f${index}`,
  };
}

Deno.test("groupRuns: without arrays every run is a single job named after it", () => {
  const { runs, groups } = groupRuns([run(0), run(1)], {
    array: false,
    throttle: null,
    maxArraySize: 1001,
  });
  assertEquals(runs.map((r) => r.group), ["r0", "r1"]);
  assertEquals(groups.map((g) => [g.id, g.kind, g.chunks[0].script, g.chunks[0].array]), [
    ["r0", "single", "scripts/r0.sh", ""],
    ["r1", "single", "scripts/r1.sh", ""],
  ]);
});

Deno.test("groupRuns: equal script settings share one array; runs keep their order", () => {
  const two = script({ resources: { time: "01:00:00", nodes: 2 } });
  // Equal content in separate objects must group together.
  const input = [run(0), run(1, two), run(2, script()), run(3, two), run(4)];
  const { runs, groups } = groupRuns(input, { array: true, throttle: 2, maxArraySize: 1001 });
  assertEquals(runs.map((r) => [r.index, r.group]), [
    [0, "array0"],
    [1, "array1"],
    [2, "array0"],
    [3, "array1"],
    [4, "array0"],
  ]);
  assertEquals(groups.length, 2);
  assertEquals(groups[0].indices, [0, 2, 4]);
  assertEquals(groups[0].chunks, [
    { offset: 0, array: "0,2,4%2", script: "scripts/array0.sh", indices: [0, 2, 4] },
  ]);
  assertEquals(groups[1].chunks, [
    { offset: 1, array: "0,2%2", script: "scripts/array1.sh", indices: [1, 3] },
  ]);
  assertEquals(groups[1].script.resources.nodes, 2);
});

Deno.test("groupRuns: every script setting separates groups", () => {
  const variants: ScriptSettings[] = [
    script(),
    script({ extraDirectives: ["#SBATCH --gpu-bind=closest"] }),
    script({ modules: ["cuda"] }),
    script({ setup: ["ulimit -n 4096"] }),
    script({ shellEnv: { X: "$(hostname)" } }),
    script({ resources: { time: "02:00:00", nodes: 1 } }),
  ];
  const { groups } = groupRuns(variants.map((s, i) => run(i, s)), {
    array: true,
    throttle: null,
    maxArraySize: 1001,
  });
  assertEquals(groups.map((g) => g.indices), [[0], [1], [2], [3], [4], [5]]);
});

Deno.test("groupRuns: a big array is split into chunk scripts with offsets", () => {
  const input = Array.from({ length: 10 }, (_, i) => run(i));
  const { groups } = groupRuns(input, { array: true, throttle: 3, maxArraySize: 4 });
  assertEquals(groups.length, 1);
  assertEquals(groups[0].chunks.map((c) => [c.offset, c.array, c.script]), [
    [0, "0-3%3", "scripts/array0_part0.sh"],
    [4, "0-3%3", "scripts/array0_part1.sh"],
    [8, "0-1%3", "scripts/array0_part2.sh"],
  ]);
  // Task ids SLURM derives from `--array`, plus the chunk's offset, are the sweep indices.
  const recovered = groups[0].chunks.flatMap((c) => taskIds(c.array).map((t) => t + c.offset));
  assertEquals(recovered, input.map((r) => r.index));
  assertEquals(groups[0].chunks.flatMap((c) => c.indices), input.map((r) => r.index));
});
