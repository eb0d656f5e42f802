#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/fleet.md's Kubernetes Jobs, run on one machine: the shell command of
# the Indexed Job's container runs once per completion index with
# JOB_COMPLETION_INDEX and the manifest's environment set (a small
# scenario and range in place of the study, to stay quick), with the
# manifest's mount points mapped to a temporary directory; then the merge
# Job's command.  The merged curve, report and sweep file must equal
# those of the same sweep run unsharded.  With python3's yaml module the
# manifests are also parsed as YAML and their key fields checked.
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

doc=docs/fleet.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scenarios" "$tmp/out" "$tmp/bin"
cp tests/data/sweep.scn "$tmp/scenarios/study.scn"
ln -s "$(cd "$(dirname "$EPCG")" && pwd)/$(basename "$EPCG")" "$tmp/bin/epcg"

# Extract from the Job manifests of $doc, as shell assignments: the
# completions of the Indexed Job, and each Job's command (its args joined
# as YAML folds a ">-" block) and environment.
python3 - "$doc" >"$tmp/jobs.sh" <<'PY' || { not_ok "the manifests can be read"; finish; exit 1; }
import re, shlex, sys
text = open(sys.argv[1]).read()
blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S)
          if "kind: Job" in b]
assert len(blocks) == 2, "want two Job manifests, found %d" % len(blocks)
for name, b in zip(("slice", "merge"), blocks):
    m = re.search(r"\n( *)args:\n\1  - >-\n((?:\1    .*\n)+)", b)
    assert m, "no args block in the %s Job" % name
    cmd = " ".join(l.strip() for l in m.group(2).splitlines())
    env = re.findall(r"- name: (\w+)\n\s+value: (.*)\n", b)
    print("%s_cmd=%s" % (name, shlex.quote(cmd)))
    print("%s_env=(%s)" % (name, " ".join(
        shlex.quote("%s=%s" % (k, v.strip().strip('"'))) for k, v in env)))
    if name == "slice":
        print("completions=%s" % re.search(r"completions: (\d+)", b).group(1))
        assert "completionMode: Indexed" in b
try:
    import yaml
except ImportError:
    sys.exit(0)
for b in blocks:
    job = yaml.safe_load(b)
    assert job["apiVersion"] == "batch/v1" and job["kind"] == "Job"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["containers"][0]["command"] == ["/bin/sh", "-c"]
slice_job = yaml.safe_load(blocks[0])
assert slice_job["spec"]["completionMode"] == "Indexed"
env = {e["name"]: e["value"] for e in
       slice_job["spec"]["template"]["spec"]["containers"][0]["env"]}
assert env["SHARDS"] == str(slice_job["spec"]["completions"])
PY
. "$tmp/jobs.sh"
ok "the manifests can be read"
[ "$completions" -ge 2 ] && ok "the Job has $completions completions" || not_ok "the Job has completions"

# The doc's paths, mapped to the temporary directory.
map() { printf '%s' "$1" | sed -e "s|/scenarios/|$tmp/scenarios/|g" -e "s|/out/|$tmp/out/|g"; }
slice_cmd=$(map "$slice_cmd")
merge_cmd=$(map "$merge_cmd")

fail=0
for ((i = 0; i < completions; i++)); do
	env -i PATH="$tmp/bin:/usr/bin:/bin" "${slice_env[@]}" \
		CGROUP=/app RANGE=64K:1M:4 JOB_COMPLETION_INDEX=$i \
		/bin/sh -c "$slice_cmd" >"$tmp/slice-$i.log" 2>&1 || fail=$((fail + 1))
done
[ "$fail" -eq 0 ] && ok "every slice's pod command succeeds" || not_ok "every slice's pod command succeeds" "$(cat "$tmp"/slice-*.log)"
study=$(for kv in "${slice_env[@]}"; do case $kv in STUDY=*) echo "${kv#STUDY=}" ;; esac; done)
n=$(ls "$tmp/out/$study"/shard-*.sweep 2>/dev/null | wc -l)
[ "$n" -eq "$completions" ] && ok "a sweep file per slice" || not_ok "a sweep file per slice" "$n files"

env -i PATH="$tmp/bin:/usr/bin:/bin" "${merge_env[@]}" /bin/sh -c "$merge_cmd" \
	>"$tmp/curve.csv" 2>"$tmp/merge.err"
rc=$?
[ "$rc" -eq 0 ] && ok "the merge pod's command succeeds" || not_ok "the merge pod's command succeeds" "$(cat "$tmp/merge.err")"

# The same study on one machine.
"$EPCG" sweep "$tmp/scenarios/study.scn" --cgroup /app --range 64K:1M:4 \
	--out "$tmp/one.sweep" --csv "$tmp/one.csv" --report "$tmp/one.html" -q
for f in "sweep.sweep one.sweep" "report.html one.html"; do
	set -- $f
	if cmp -s "$tmp/out/$study/$1" "$tmp/$2"; then ok "merged $1 = unsharded"; else
		not_ok "merged $1 = unsharded" "$(diff "$tmp/out/$study/$1" "$tmp/$2" | head -5)"
	fi
done
if cmp -s "$tmp/curve.csv" "$tmp/one.csv"; then ok "the merge log is the unsharded CSV curve"; else
	not_ok "the merge log is the unsharded CSV curve" "$(diff "$tmp/curve.csv" "$tmp/one.csv" | head -5)"
fi
finish
