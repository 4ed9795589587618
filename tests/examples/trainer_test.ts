/**
 * The example trainer (examples/trainer/megatron_like.sh) behaves like Megatron where the monitor
 * can see it: its lines match the built-in patterns, it resumes from the newest complete
 * checkpoint, saves and exits cleanly on SIGUSR1/SIGTERM, and its fault knobs fire once.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { compileEvents, matchLine, MEGATRON_EVENTS } from "../../lib/monitoring/events.ts";

const TRAINER = `${ROOT}/examples/trainer/megatron_like.sh`;
const events = compileEvents(MEGATRON_EVENTS);

async function train(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command("bash", {
    args: [TRAINER, "--iter-seconds", "0", ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, text: new TextDecoder().decode(out.stdout) };
}

function kinds(text: string): string[] {
  return text.split("\n").flatMap((l) => matchLine(events, l).map((m) => `${m.kind}`));
}

Deno.test("trainer: Megatron's lines, recognised by the built-in patterns", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await train(["--train-iters", "6", "--save", dir, "--save-interval", "3"]);
    assertEquals(r.code, 0, r.text);
    const k = kinds(r.text);
    assertEquals(k.filter((x) => x === "checkpoint").length, 2, r.text);
    assertEquals(k.filter((x) => x === "completed").length, 1, r.text);
    assert_(k.includes("progress"), r.text);
    assertEquals(await Deno.readTextFile(`${dir}/latest_checkpointed_iteration.txt`), "6");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: resumes from the newest complete checkpoint, or --ckpt-step", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await train(["--train-iters", "6", "--save", dir, "--save-interval", "3"]);
    // An interrupted save: the folder exists, the tracker was not updated.
    await Deno.mkdir(`${dir}/iter_0000009`);
    const r = await train(["--train-iters", "8", "--save", dir, "--save-interval", "3"]);
    assert_(/successfully loaded checkpoint from \S+ .* at iteration 6\b/.test(r.text), r.text);
    const s = await train(["--load", dir, "--ckpt-step", "3", "--skip-train"]);
    assert_(/loaded checkpoint .* at iteration 3\b/.test(s.text), s.text);
    assert_(/validation loss at iteration 3 on validation set/.test(s.text), s.text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trainer: SIGUSR1 saves and exits 0 with Megatron's exit line, whenever it arrives", async () => {
  // Several runs, signalled at different moments of an iteration: a signal that arrived while
  // bash parsed a command substitution once ended the loop as if training were done.
  const signalled = async (afterMs: number) => {
    const dir = await Deno.makeTempDir();
    try {
      const child = new Deno.Command("bash", {
        args: [TRAINER, "--iter-seconds", "0.05", "--train-iters", "1000", "--save", dir],
        stdout: "piped",
      }).spawn();
      await new Promise((r) => setTimeout(r, afterMs));
      child.kill("SIGUSR1");
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout);
      assertEquals(out.code, 0, text);
      assert_(text.includes("[exiting program after receiving SIGTERM.]"), text);
      assert_(!text.includes("[after training is done]"), text);
      const it = Number(await Deno.readTextFile(`${dir}/latest_checkpointed_iteration.txt`));
      assert_(it > 0 && it < 1000, `saved at ${it}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  await Promise.all([400, 437, 473, 511, 549, 600, 631, 668].map(signalled));
});

Deno.test("trainer: fault knobs fire on the first attempt only (FAULT_TIMES more)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["--train-iters", "6", "--save", dir, "--save-interval", "2"];
    const oom = await train(args, { FAULT_OOM_AT: "3" });
    assertEquals(oom.code, 1);
    assert_(kinds(oom.text).includes("oom"), oom.text);
    const again = await train(args, { FAULT_OOM_AT: "3" });
    assertEquals(again.code, 0, again.text);
    const fresh = ["--train-iters", "6", "--save", `${dir}/b`, "--save-interval", "2"];
    const crash = { FAULT_CRASH_AT: "5", FAULT_TIMES: "2", FAULT_EXIT_CODE: "7" };
    const first = await train(fresh, crash);
    assertEquals(first.code, 7);
    assert_(kinds(first.text).includes("crashed"), first.text);
    assertEquals((await train(fresh, crash)).code, 7, "FAULT_TIMES=2: the second attempt too");
    assertEquals((await train(fresh, crash)).code, 0, "the third runs through");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
