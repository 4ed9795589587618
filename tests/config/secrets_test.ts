/** Secret-looking names are masked where configs are shown (lib/config/secrets.ts). */
import { assertEquals } from "../_assert.ts";
import { maskSecrets, secretName } from "../../lib/config/secrets.ts";

Deno.test("secretName: tokens, keys, passwords; not ordinary keys", () => {
  const secret = [
    "HF_TOKEN",
    "WANDB_API_KEY",
    "api_key",
    "AWS_SECRET_ACCESS_KEY",
    "db_password",
    "GITHUB_TOKEN",
    "SSH_KEY",
    "credentials",
    "hub-token",
  ];
  const plain = [
    "key",
    "sort_key",
    "monkey",
    "tokenizer",
    "tokenizer_type",
    "tokens",
    "train_tokens",
    "keys",
    "NCCL_DEBUG",
    "passes",
  ];
  for (const k of secret) assertEquals(secretName(k), true, k);
  for (const k of plain) assertEquals(secretName(k), false, k);
  assertEquals(secretName("MY_CLUSTER_ID", /CLUSTER_ID$/i), true);
});

Deno.test("maskSecrets masks values under secret names, keeps interpolations and the rest", () => {
  const masked = maskSecrets({
    slurm: {
      env: {
        HF_TOKEN: "hf_abc",
        WANDB_API_KEY: "${oc.env:WANDB_API_KEY}",
        EMPTY_TOKEN: "",
        PASSWORD_SHELL: { value: "$(cat ~/.pw)", shell: true },
        OMP_NUM_THREADS: 8,
      },
    },
    backend: { args: { tokenizer_type: "GPT2BPETokenizer", hub_token: 1234 } },
    list: [{ secret: "s" }],
    overrides: ["+slurm.env.HF_TOKEN=hf_abc", "backend.args.lr=0.1", "x.token=${oc.env:T}"],
  });
  assertEquals(masked, {
    slurm: {
      env: {
        HF_TOKEN: "***",
        WANDB_API_KEY: "${oc.env:WANDB_API_KEY}",
        EMPTY_TOKEN: "",
        PASSWORD_SHELL: { value: "***", shell: true },
        OMP_NUM_THREADS: 8,
      },
    },
    backend: { args: { tokenizer_type: "GPT2BPETokenizer", hub_token: "***" } },
    list: [{ secret: "***" }],
    overrides: ["+slurm.env.HF_TOKEN=***", "backend.args.lr=0.1", "x.token=${oc.env:T}"],
  });
});
