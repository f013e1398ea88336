/**
 * The long descriptions and examples `--help` shows (`notary-ts help COMMAND`), by command path. Kept apart
 * from the command modules so help needs none of them loaded, and at least as informative as Go's texts.
 */
export interface CommandDoc {
  readonly long: string;
  readonly example?: string;
}

const S = '-s https://notary.example.com:4443';
const OFFLINE = 'This is an offline operation (it only stages the change); use `publish`, or -p, to push it to the server.';

export const COMMAND_DOCS: Readonly<Record<string, CommandDoc>> = {
  init: {
    long: `Initializes a local trusted collection identified by the Globally Unique Name (GUN). This is an online operation: it asks the server for its timestamp key, creates (or reuses) a root key and a targets and snapshot key in the trust directory, and stages the new collection; -p publishes it at once.

The root key passphrase is read from NOTARY_ROOT_PASSPHRASE, the others from NOTARY_TARGETS_PASSPHRASE and NOTARY_SNAPSHOT_PASSPHRASE (or asked on a terminal). --rootkey imports an encrypted root key file instead; --rootcert uses a certificate for the root key.`,
    example: `notary-ts ${S} init -p example.com/app
# with an existing, encrypted root key
notary-ts ${S} init --rootkey ./root-key.pem -p example.com/app`,
  },
  add: {
    long: `Adds the file as a target to the local trusted collection identified by the Globally Unique Name, with its size and its sha256 and sha512 hashes. ${OFFLINE}

The file is hashed as it streams (constant memory, any size); a progress line is drawn on stderr when it is a terminal and hashing takes over a second (--no-progress silences it). -r adds the target to delegated roles instead of targets; --custom attaches canonical JSON from a file.`,
    example: `notary-ts add example.com/app v1.2 ./app-1.2.tar.gz
notary-ts ${S} add -p example.com/app v1.2 ./app-1.2.tar.gz
# into a delegation
notary-ts add -r targets/releases example.com/app v1.2 ./app-1.2.tar.gz`,
  },
  addhash: {
    long: `Adds the specified byte size and hash(es) as a target to the local trusted collection identified by the Globally Unique Name, without the content itself (e.g. an image manifest digest). At least one of --sha256 / --sha512 (hex) is needed; the size is a Go integer (decimal, 0x…, 0o…). ${OFFLINE}`,
    example: `notary-ts addhash example.com/app latest 1024 --sha256 5d41402abc4b2a76b9719d911017c592a8a1a5a5a5a5a5a5a5a5a5a5a5a5a5a5
# the hashes of a file, from the shell
notary-ts addhash example.com/app v1 $(stat -c %s app.tgz) --sha256 $(sha256sum app.tgz | cut -d' ' -f1)`,
  },
  remove: {
    long: `Removes a target from the local trusted collection identified by the Globally Unique Name (from targets, or from the roles given with -r). ${OFFLINE}`,
    example: `notary-ts remove example.com/app v1.2
notary-ts ${S} remove -p example.com/app v1.2`,
  },
  status: {
    long: 'Displays status of unpublished changes to the local trusted collection identified by the Globally Unique Name: one numbered line per staged change (the numbers `reset -n` takes).',
    example: `notary-ts status example.com/app
notary-ts --json status example.com/app`,
  },
  reset: {
    long: 'Resets unpublished changes for the local trusted collection identified by the Globally Unique Name: --all drops every staged change, -n drops the changes with these numbers (integers, as `status` shows them; repeat -n or separate with commas).',
    example: `notary-ts reset example.com/app --all
notary-ts reset example.com/app -n 0,2`,
  },
  publish: {
    long: 'Publishes the local trusted collection identified by the Globally Unique Name, sending the local changes to a remote trusted server: the staged changes are applied, the changed roles signed (passphrases from NOTARY_*_PASSPHRASE or the terminal), uploaded, and cleared from the changelist.',
    example: `notary-ts ${S} publish example.com/app`,
  },
  witness: {
    long: "Marks roles to be re-signed the next time they're published: the role's version and expiry are bumped and it is signed again with the keys held here (e.g. to renew an expiring delegation).",
    example: `notary-ts ${S} witness -p example.com/app targets/releases`,
  },
  delete: {
    long: 'Deletes all local content (cached metadata and staged changes; keys stay) for a trusted collection identified by the Globally Unique Name. --remote also deletes it on the server (which must allow it).',
    example: `notary-ts delete example.com/app
notary-ts ${S} delete --remote example.com/app`,
  },
  list: {
    long: 'Lists all targets for a remote trusted collection identified by the Globally Unique Name, after verifying its metadata (signatures, thresholds, expiry, versions). This is an online operation; if the server cannot be reached, the verified cache is used. -r lists the targets of delegated roles instead.',
    example: `notary-ts ${S} list example.com/app
notary-ts ${S} list -r targets/releases example.com/app
notary-ts --json ${S} list example.com/app`,
  },
  lookup: {
    long: 'Looks up a specific target in a remote trusted collection identified by the Globally Unique Name, and prints its name, sha256 digest and size. Delegations are searched in Notary\'s order.',
    example: `notary-ts ${S} lookup example.com/app v1.2
notary-ts --json ${S} lookup example.com/app v1.2`,
  },
  verify: {
    long: `Verifies that the data read from standard input (or -i FILE) is the target of that name in the remote trusted collection identified by the Globally Unique Name, and writes it to standard output (or -o FILE) only once it is verified; -q writes nothing. The exit code is 1 if it is not.

The data is hashed as it streams, in constant memory whatever its size; until verified it is held in a private temporary file. Under --json the data is not echoed (unless -o) and the result is a JSON document.`,
    example: `notary-ts ${S} verify example.com/app v1.2 < app-1.2.tar.gz > /dev/null && echo trusted
curl -s https://example.com/app-1.2.tar.gz | notary-ts ${S} verify example.com/app v1.2 -o app-1.2.tar.gz
notary-ts ${S} verify -q -i app-1.2.tar.gz example.com/app v1.2`,
  },
  version: { long: 'Print the version number of notary-ts and of Node.js.' },
  'delegation list': {
    long: 'Lists all delegations known to notary for a specific Global Unique Name: each role with its paths, key IDs and threshold.',
    example: `notary-ts ${S} delegation list example.com/app`,
  },
  'delegation add': {
    long: `Adds keys to a delegation role (targets/NAME) of a specific Global Unique Name, from PEM files holding X.509 certificates or public keys, and/or paths the role may sign (--paths, --all-paths). A new role gets --threshold (default 1). ${OFFLINE}`,
    example: `notary-ts delegation add example.com/app targets/releases alice.crt --all-paths
notary-ts ${S} delegation add -p example.com/app targets/releases bob.crt --paths release/`,
  },
  'delegation remove': {
    long: `Removes key IDs and/or paths from a delegation role of a specific Global Unique Name; with neither, removes the whole role after a yes/no question (-y answers it; with --json, -y is required). ${OFFLINE}`,
    example: `notary-ts delegation remove example.com/app targets/releases 1f2e…keyid
notary-ts delegation remove -y example.com/app targets/releases`,
  },
  'delegation purge': {
    long: `Removes key IDs (--key) from all delegation roles in the given GUN, for the roles whose signing keys are available here. ${OFFLINE}`,
    example: `notary-ts delegation purge example.com/app --key 1f2e…keyid -p`,
  },
  'key list': {
    long: 'Lists all keys known to notary-ts in the trust directory (~/.notary/private): role, GUN, key ID and location.',
    example: `notary-ts key list
notary-ts --json key list`,
  },
  'key generate': {
    long: `Generates a new ECDSA P-256 key. Without --role the key is a root key ("root" is the default). It is stored in the trust directory, encrypted with the role's passphrase (NOTARY_ROOT_PASSPHRASE for root). With -o NAME it is not stored: NAME-key.pem (private, encrypted with NOTARY_DELEGATION_PASSPHRASE) and NAME.pem (public) are written instead, e.g. for a delegation.`,
    example: `notary-ts key generate
notary-ts key generate ecdsa --role targets/releases
notary-ts key generate -o alice --role targets/releases`,
  },
  'key import': {
    long: 'Imports all keys from all provided .pem files by reading each PEM block from the file and writing it to the key store. The role and GUN come from the PEM headers, or from --role / --gun when a block has none. Root keys must be encrypted.',
    example: `notary-ts key import alice-key.pem --role targets/releases`,
  },
  'key export': {
    long: 'Exports all keys from the key store as PEM blocks (still encrypted), to standard output or -o FILE. --key or --gun restricts which keys are exported (not both).',
    example: `notary-ts key export -o backup.pem
notary-ts key export --gun example.com/app`,
  },
  'key remove': {
    long: 'Removes the key with the given key ID from the key store, after a yes/no question (-y answers it; with --json, -y is required).',
    example: `notary-ts key remove 1f2e…64-hex-digit-keyid
notary-ts --json key remove -y 1f2e…64-hex-digit-keyid`,
  },
  'key passwd': {
    long: 'Changes the passphrase for the key with the given key ID: the old passphrase unlocks it, the new one (asked twice on a terminal) encrypts it.',
    example: `notary-ts key passwd 1f2e…64-hex-digit-keyid`,
  },
  'key rotate': {
    long: 'Generates a new key for the given Globally Unique Name and role (one of "snapshot", "targets", "root", or "timestamp") and publishes the rotation at once; no other staged change is published. -r asks the server for a server-managed key (required for timestamp, optional for snapshot); -k rotates to key files given instead. A root rotation asks for confirmation (-y answers it; required with --json) and is signed with the old and the new root key.',
    example: `notary-ts ${S} key rotate example.com/app targets
notary-ts ${S} key rotate example.com/app snapshot -r
notary-ts ${S} key rotate example.com/app root -y`,
  },
  'cosign prepare': {
    long: 'Writes the next version of a role, with the changes staged for it (e.g. `add -r ROLE`), to FILE, signed with the role keys held here. The staged changes leave the changelist (they live in FILE). Pass FILE to the other signers (notary-ts extension).',
    example: `notary-ts add -r targets/releases example.com/app v2 ./app.tgz
notary-ts ${S} cosign prepare example.com/app targets/releases pending.json`,
  },
  'cosign sign': {
    long: 'Adds signatures made with the role keys held here to a pending role FILE (notary-ts extension).',
    example: `notary-ts ${S} cosign sign example.com/app targets/releases pending.json`,
  },
  'cosign status': {
    long: 'Shows what a pending role FILE changes and how many valid signatures from distinct keys it has of the threshold (notary-ts extension).',
    example: `notary-ts ${S} cosign status example.com/app targets/releases pending.json`,
  },
  'cosign publish': {
    long: 'Publishes a pending role FILE (and a new snapshot) once it has enough signatures (notary-ts extension).',
    example: `notary-ts ${S} cosign publish example.com/app targets/releases pending.json`,
  },
  'trust verify': {
    long: `Decides, for each image, whether it may run and which digest it is: the policy's first matching rule says which signers are required (all of a list, or any N of one, on the same digest; Docker's rule — targets/releases, else targets — when none are listed), how the root is trusted (on first use, pinned keys, or Notary trust pinning) and what to do (enforce, warn, allow, deny). Each image is verified with Notary's full update workflow. Prints IMAGE -> name@sha256:DIGEST for each image that passes; each failure is one line on stderr naming the image, the rule and the reason; exit 0 only if every image passes. Without --policy: Docker's rule, root trusted on first use. --at judges expiry as of a past or future time (audits). See docs/deploy-gate.md (notary-ts extension).`,
    example: `notary-ts trust verify --policy gate.yaml registry.example.com/team/app:1.2.3
# deploy the digest that was verified, not the tag
ref=$(notary-ts trust verify --policy gate.yaml registry.example.com/team/app:1.2.3 | sed 's/.* -> //')`,
  },
  'admission serve': {
    long: `Serves a Kubernetes admission webhook (admission.k8s.io/v1 AdmissionReview over HTTPS) that denies workloads whose images the policy refuses and, in mutating mode, pins every verified image to name@sha256:DIGEST. Pods, Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs and CronJobs (containers, init and ephemeral containers). A review not decided within --deadline is denied (fail closed). GET /healthz, /readyz and /metrics (Prometheus); one JSON audit line per image with --audit-log; the policy is reloaded when its file changes (a bad one is refused, the old one kept); SIGTERM finishes the reviews in flight. Manifests: examples/kubernetes/ (notary-ts extension).`,
    example: `notary-ts admission serve --policy gate.yaml --tls-cert tls.crt --tls-key tls.key --port 8443 --audit-log -`,
  },
  report: {
    long: `Reports, for each repository (verified with the full update workflow, as of --at when given), every role's version, expiry and time left, root and delegation certificates, keys and thresholds, the delegation tree, signed tags with their signers, roles skipped as expired or below threshold, and findings ranked by urgency. Exit 0 all clear, 1 a finding within --warn-within, 2 a repository could not be verified. --json prints one document, --html FILE writes a self-contained page. See docs/report.md (notary-ts extension).`,
    example: `notary-ts ${S} report example.com/app example.com/api --warn-within 30d --html trust-report.html`,
  },
  migrate: {
    long: `Moves a repository's trust data to another notary server or to a directory any static web server can serve (file://DIR): verifies the source completely, replaces the keys the source server held with new ones in a new root version signed with your root key, carries targets and delegations over with their signatures, and publishes so that clients which pinned the old root follow with no action. The plan (and the keys it needs) is printed before any passphrase is asked; --dry-run prints only the plan. An interrupted migration is resumed by running it again. See docs/migrating-off-hosted-notary.md (notary-ts extension).`,
    example: `notary-ts migrate docker.io/team/app --from https://notary.docker.io --to https://notary.example.com:4443 --dry-run
notary-ts migrate docker.io/team/app --from https://notary.docker.io --to file:///srv/trust`,
  },
  'refresh-timestamp': {
    long: 'Re-signs the timestamp (and the snapshot when it is due) of a repository served from a directory (file://DIR), so its trust data never expires; run it from cron or a CI schedule with the repository passphrase in the environment (notary-ts extension).',
    example: `notary-ts refresh-timestamp docker.io/team/app --to file:///srv/trust`,
  },
  mirror: {
    long: 'Keeps a verified, read-only copy of a repository in a directory (for consumers without keys): the copy is verified as it is taken and records when and from where (notary-ts extension).',
    example: `notary-ts mirror docker.io/team/app --from https://notary.docker.io --to file:///srv/mirror`,
  },
  audit: {
    long: 'Verifies a mirror as of the time it was taken (or --as-of) and lists its targets, or looks one up, with a warning that expiry is judged at that time and later revocations are not known (notary-ts extension).',
    example: `notary-ts audit docker.io/team/app --from file:///srv/mirror
notary-ts audit docker.io/team/app v1.2 --from file:///srv/mirror --as-of 2026-12-01T00:00:00Z`,
  },
};
