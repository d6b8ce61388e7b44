/**
 * Help texts of the CLI. Private module.
 *
 * @module
 */

const EXIT_CODES = `Exit codes:
  0  success
  1  failure (for example: the backend cannot sign URLs)
  2  usage error: bad options or arguments, unknown store name, invalid path
  3  not found
  4  already exists (pass --overwrite to replace it)
  5  permission denied
  6  backend unavailable (unreachable, throttled, server error)
  7  invalid config (no config file, unreadable, invalid, missing \${VAR})
  130  interrupted (Ctrl-C)
  141  stdout was closed by its reader (as after SIGPIPE, e.g. "| head")`;

const CONFIG = `Config:
  --config <file>   JSON or TOML (.toml) config: { backends: {...}, stores: {...} }.
                    Default: $REMOTE_STORE_CONFIG, else ./remote-store.json,
                    else ./remote-store.toml. \${VAR} and \${VAR:-default} expand
                    from the environment; the Python library's snake_case keys
                    work too. A relative local "root" is relative to the file.
                    A file named pyproject.toml holds the config in its
                    [tool.remote-store] table.`;

/** The text of `remote-store --help`. */
export const MAIN_HELP = `remote-store: files in memory, on disk and in Azure, from the shell.

Usage: remote-store <command> [options] [--config <file>]

Commands:
  ls    <store>:<path> [-r] [-l] [--json]   list files and folders (no argument: the stores)
  cat   <store>:<path>...                   write files to stdout
  cp    <src> <dst> [--overwrite]           copy; each side a store path, a local path or -
  mv    <store>:<src> <store>:<dst>         move or rename (also across stores)
  rm    <store>:<path>... [-r] [--missing-ok]  delete files (folders with -r)
  stat  <store>:<path> [--json]             file or folder information
  url   <store>:<path> [--expires 1h]       print a signed URL (Azure)
  ping  [<store>...]                        check that stores can be used (no argument: all)

A store path is <store>:<path>, with <store> a store name from the config
and <path> relative to the store's root (<store>: is the root).

Run "remote-store <command> --help" for a command's options.

${CONFIG}

${EXIT_CODES}
`;

/** Help of each command, by name. */
export const COMMAND_HELP: Record<string, string> = {
  ls: `Usage: remote-store ls [<store>:<path>] [options]

Lists the files and folders directly in a folder, one store path per line
(folders end with "/"). A file path lists that one file. With no argument,
lists the configured store names. Control characters in names are printed
escaped (\\n, \\x1B, \\u{202E}; a backslash as \\\\).

Options:
  -r, --recursive   list every file below the folder (files only)
  -l, --long        size in bytes, modification time (UTC) and path
      --json        a JSON array of {type, path, name, size, modifiedAt, ...}
`,
  cat: `Usage: remote-store cat <store>:<path>...

Writes the files to stdout, streamed with backpressure (binary-safe).
`,
  cp: `Usage: remote-store cp <src> <dst> [--overwrite]

Copies one file. Each side is a store path (<store>:<path>), a local path
(no colon, or starting with ./, ../ or /), or - for stdin (as <src>) or
stdout (as <dst>). A destination that ends with "/" or is an existing folder
receives the source's file name. Between two stores the bytes stream through
with bounded memory; within one store the copy is server-side where possible.
On a terminal a progress bar is drawn on stderr.

Options:
      --overwrite   replace an existing destination (default: fail with exit code 4)
`,
  mv: `Usage: remote-store mv <store>:<src> <store>:<dst> [--overwrite]

Moves a file. Within one store: Store.move (an atomic rename on local disk
and ADLS Gen2). Across stores: a streamed copy, then the source is deleted.
A destination that ends with "/" or is an existing folder receives the
source's file name. Moving a file onto itself (two store names that reach
the same file) does nothing.

Options:
      --overwrite   replace an existing destination (default: fail with exit code 4)
`,
  rm: `Usage: remote-store rm <store>:<path>... [-r] [--missing-ok]

Deletes files; with -r also folders and everything below them.

Options:
  -r, --recursive    delete a folder and everything below it
      --missing-ok   succeed when the path does not exist
`,
  stat: `Usage: remote-store stat <store>:<path> [--json]

Shows a file's size, modification time, ETag, content type and metadata, or
a folder's file count and total size.

Options:
      --json   print the information as one JSON object
`,
  url: `Usage: remote-store url <store>:<path> [--expires <time>] [--read] [--write] [--delete]

Prints a time-limited URL that grants access to this one file (Azure: a
blob-scoped SAS). Backends that cannot sign URLs fail with exit code 1.

Options:
      --expires <time>   lifetime: seconds (3600) or 45s, 30m, 1h, 7d (default 1h, at most 7d)
      --read             allow reading (the default when no permission is given)
      --write            allow writing (uploading) the file
      --delete           allow deleting the file
`,
  ping: `Usage: remote-store ping [<store>...]

Checks that each named store (every configured store when none is named) can
be used, with one cheap request where there is a service (Azure: one listing
of the container; local: the root folder), and prints "<store>: ok" or
"<store>: <what failed>" per line. The exit code is the first failure's:
3 for a missing container or root folder, 5 for refused credentials, 6 for
an unreachable service.
`,
};

/** The options every command accepts, appended to each command's help. */
export const COMMON_OPTIONS = `
Common options:
      --config <file>   the config file (see remote-store --help)
  -h, --help            show this help
`;
