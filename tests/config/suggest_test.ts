/**
 * Tests of "did you mean" suggestions: the edit distance, which candidates count as close, their
 * order, and the rendered sentence.
 */
import assert from "node:assert/strict";
import { closestMatches, didYouMean, editDistance } from "../../lib/config/suggest.ts";

Deno.test("editDistance: optimal string alignment distance", () => {
  const cases: [string, string, number][] = [
    ["", "", 0],
    ["", "abc", 3],
    ["abc", "", 3],
    ["same", "same", 0],
    ["kitten", "sitting", 3],
    ["lumj", "lumi", 1], // substitution
    ["lumii", "lumi", 1], // deletion
    ["lum", "lumi", 1], // insertion
    ["partiton", "partition", 1],
    ["ab", "ba", 1], // adjacent transposition counts once
    ["acocunt", "account", 1],
    ["ca", "abc", 3], // OSA: no edits inside a transposed pair
    ["Lumi", "lumi", 1], // case-sensitive; callers lower-case
  ];
  for (const [a, b, d] of cases) {
    assert.strictEqual(editDistance(a, b), d, `${a} -> ${b}`);
    assert.strictEqual(editDistance(b, a), d, `${b} -> ${a}`);
  }
});

const SBATCH = [
  "partition",
  "account",
  "time",
  "nodes",
  "ntasks_per_node",
  "gpus_per_node",
  "cpus_per_task",
  "mem",
];
const CLUSTERS = ["lumi", "juwels", "jupiter", "leonardo", "marenostrum", "killarney", "base"];

Deno.test("closestMatches: typos within about a third of the word, best first", () => {
  const cases: [string, string[], string[]][] = [
    ["partiton", SBATCH, ["partition"]],
    ["acount", SBATCH, ["account"]],
    ["tim", SBATCH, ["time"]],
    ["me", SBATCH, ["mem"]], // short words: one edit
    ["gpu_per_node", SBATCH, ["gpus_per_node"]],
    ["lumj", CLUSTERS, ["lumi"]],
    ["LUMI", CLUSTERS, ["lumi"]], // case-insensitive
    ["jupyter", CLUSTERS, ["jupiter"]],
    ["kilarney", CLUSTERS, ["killarney"]],
    ["mare_nostrum", CLUSTERS, ["marenostrum"]],
    // Nothing close: no suggestion rather than a random one.
    ["x", SBATCH, []],
    ["qos", SBATCH, []],
    ["frontier", CLUSTERS, []],
    ["", SBATCH, []],
  ];
  for (const [word, candidates, expected] of cases) {
    assert.deepStrictEqual(closestMatches(word, candidates), expected, word);
  }
});

Deno.test("closestMatches: a word inside a candidate (or around it) counts, ranked after typos", () => {
  const cases: [string, string[], string[]][] = [
    ["gpus", SBATCH, ["gpus_per_node"]],
    ["ntasks", SBATCH, ["ntasks_per_node"]],
    ["mem_per_gpu", SBATCH, ["mem"]],
    ["walltime", SBATCH, ["time"]],
    ["leo", CLUSTERS, ["leonardo"]],
    // The one-edit typo comes before the longer names that merely contain the word.
    ["node", SBATCH, ["nodes", "gpus_per_node", "ntasks_per_node"]],
    // Under three letters, containment is not evidence enough.
    ["no", SBATCH, []],
  ];
  for (const [word, candidates, expected] of cases) {
    assert.deepStrictEqual(closestMatches(word, candidates), expected, word);
  }
});

Deno.test("closestMatches: ties sort alphabetically, duplicates collapse, limit applies", () => {
  assert.deepStrictEqual(closestMatches("cat", ["hat", "bat", "cat", "bat", "rat"]), [
    "cat",
    "bat",
    "hat",
  ]);
  assert.deepStrictEqual(closestMatches("cat", ["hat", "bat", "rat"], 2), ["bat", "hat"]);
  assert.deepStrictEqual(closestMatches("cat", ["hat", "bat", "rat"], 0), []);
  assert.deepStrictEqual(closestMatches("cat", new Set(["cut"]).values()), ["cut"]);
});

Deno.test("didYouMean: one suggestion, several, or none", () => {
  const cases: [string, string[], string][] = [
    ["partiton", SBATCH, 'did you mean "partition"?'],
    ["node", SBATCH, 'did you mean one of "nodes", "gpus_per_node", "ntasks_per_node"?'],
    ["qos", SBATCH, ""],
  ];
  for (const [word, candidates, expected] of cases) {
    assert.strictEqual(didYouMean(word, candidates), expected, word);
  }
  assert.strictEqual(
    didYouMean("lumj", CLUSTERS, (s) => `\`slurm=${s}\``),
    "did you mean `slurm=lumi`?",
  );
});
