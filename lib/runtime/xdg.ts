/**
 * The per-user directories autoexp keeps things in, after the XDG base directory spec: data
 * (the history index) in `$XDG_DATA_HOME/autoexp` (default `~/.local/share/autoexp`), config
 * (the user-wide config layer) in `$XDG_CONFIG_HOME/autoexp` (default `~/.config/autoexp`).
 * Pure: computed from an environment.
 *
 * @module
 */

/** Which per-user directory. */
export type UserDirKind = "data" | "config";

/**
 * autoexp's per-user directory of a kind, or null when neither the XDG variable nor `HOME` is
 * set (nothing is kept then). A relative XDG value is ignored, as the spec says.
 *
 * @example userDir({ HOME: "/home/ada" }, "data") === "/home/ada/.local/share/autoexp"
 */
export function userDir(
  env: Readonly<Record<string, string | undefined>>,
  kind: UserDirKind,
): string | null {
  const xdg = env[kind === "data" ? "XDG_DATA_HOME" : "XDG_CONFIG_HOME"];
  if (xdg && xdg.startsWith("/")) return `${xdg.replace(/\/+$/, "")}/autoexp`;
  const home = env.HOME;
  if (!home) return null;
  return `${home.replace(/\/+$/, "")}/${kind === "data" ? ".local/share" : ".config"}/autoexp`;
}
