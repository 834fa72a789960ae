package sqlite

import (
	"fmt"
	"strconv"

	"github.com/moat-iot/moat/internal/store"
)

func scanPolicy(sc interface{ Scan(...any) error }) (store.Policy, error) {
	var p store.Policy
	var ca, ua int64
	err := sc.Scan(&p.Name, &p.DefaultVersionID, &ca, &ua, &p.GenerationID)
	p.CreatedAt, p.UpdatedAt = fromMicros(ca), fromMicros(ua)
	return p, err
}

func scanPolicyVersion(sc interface{ Scan(...any) error }) (store.PolicyVersion, error) {
	var v store.PolicyVersion
	var ca int64
	err := sc.Scan(&v.PolicyName, &v.VersionID, &v.Document, &ca)
	v.CreatedAt = fromMicros(ca)
	return v, err
}

func (t *tx) Policy(name string) (store.Policy, error) {
	row := t.q.QueryRowContext(t.ctx,
		`SELECT name, default_version_id, created_at, updated_at, generation_id FROM policies WHERE name = ?`, name)
	p, err := scanPolicy(row)
	if err != nil {
		return store.Policy{}, notFound("policy "+name, err)
	}
	return p, nil
}

func (t *tx) InsertPolicy(p store.Policy) error {
	_, err := t.exec("insert policy "+p.Name,
		`INSERT INTO policies (name, default_version_id, created_at, updated_at, generation_id) VALUES (?, ?, ?, ?, ?)`,
		p.Name, p.DefaultVersionID, toMicros(p.CreatedAt), toMicros(p.UpdatedAt), p.GenerationID)
	return err
}

func (t *tx) UpdatePolicy(p store.Policy) error {
	return t.execOne("update policy "+p.Name,
		`UPDATE policies SET default_version_id = ?, updated_at = ?, generation_id = ? WHERE name = ?`,
		p.DefaultVersionID, toMicros(p.UpdatedAt), p.GenerationID, p.Name)
}

// DeletePolicy removes the policy; its versions and attachments go with it
// (ON DELETE CASCADE).
func (t *tx) DeletePolicy(name string) error {
	return t.execOne("delete policy "+name, `DELETE FROM policies WHERE name = ?`, name)
}

func (t *tx) ListPolicies(p store.Page, ascending bool) ([]store.Policy, string, error) {
	const op = "list policies"
	n := limit(p)
	after, ok, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	q := `SELECT name, default_version_id, created_at, updated_at, generation_id FROM policies`
	var args []any
	if ok {
		if ascending {
			q += ` WHERE name > ?`
		} else {
			q += ` WHERE name < ?`
		}
		args = append(args, after)
	}
	if ascending {
		q += ` ORDER BY name LIMIT ?`
	} else {
		q += ` ORDER BY name DESC LIMIT ?`
	}
	args = append(args, n+1)
	rows, err := t.q.QueryContext(t.ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanPolicy)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", op, err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeCursor(curName, out[n-1].Name)
	}
	return out, next, nil
}

func (t *tx) PolicyVersion(name string, versionID int) (store.PolicyVersion, error) {
	row := t.q.QueryRowContext(t.ctx,
		`SELECT policy_name, version_id, document, created_at FROM policy_versions WHERE policy_name = ? AND version_id = ?`,
		name, versionID)
	v, err := scanPolicyVersion(row)
	if err != nil {
		return store.PolicyVersion{}, notFound("policy version "+name+"/"+strconv.Itoa(versionID), err)
	}
	return v, nil
}

func (t *tx) InsertPolicyVersion(v store.PolicyVersion) error {
	_, err := t.exec("insert policy version "+v.PolicyName+"/"+strconv.Itoa(v.VersionID),
		`INSERT INTO policy_versions (policy_name, version_id, document, created_at) VALUES (?, ?, ?, ?)`,
		v.PolicyName, v.VersionID, v.Document, toMicros(v.CreatedAt))
	return err
}

func (t *tx) DeletePolicyVersion(name string, versionID int) error {
	return t.execOne("delete policy version "+name+"/"+strconv.Itoa(versionID),
		`DELETE FROM policy_versions WHERE policy_name = ? AND version_id = ?`, name, versionID)
}

func (t *tx) PolicyVersions(name string) ([]store.PolicyVersion, error) {
	op := "policy versions " + name
	rows, err := t.q.QueryContext(t.ctx,
		`SELECT policy_name, version_id, document, created_at FROM policy_versions WHERE policy_name = ? ORDER BY version_id`,
		name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out, err := collect(rows, scanPolicyVersion)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

func (t *tx) AttachPolicy(policyName, target string) error {
	_, err := t.exec("attach policy "+policyName,
		`INSERT INTO policy_targets (policy_name, target) VALUES (?, ?) ON CONFLICT (policy_name, target) DO NOTHING`,
		policyName, target)
	return err
}

func (t *tx) DetachPolicy(policyName, target string) error {
	return t.execOne("detach policy "+policyName,
		`DELETE FROM policy_targets WHERE policy_name = ? AND target = ?`, policyName, target)
}

func (t *tx) AttachedPolicies(target string, p store.Page) ([]string, string, error) {
	const op = "attached policies"
	n := limit(p)
	after, _, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	return t.listNames(op, n,
		`SELECT policy_name FROM policy_targets WHERE target = ? AND policy_name > ? ORDER BY policy_name LIMIT ?`,
		target, after, n+1)
}

func (t *tx) PolicyTargets(policyName string, p store.Page) ([]string, string, error) {
	const op = "policy targets"
	n := limit(p)
	after, _, err := nameCursor(op, p.After)
	if err != nil {
		return nil, "", err
	}
	return t.listNames(op, n,
		`SELECT target FROM policy_targets WHERE policy_name = ? AND target > ? ORDER BY target LIMIT ?`,
		policyName, after, n+1)
}
