package sqlite

import (
	"fmt"
	"sort"
	"strings"
)

// tagChunk is the most rows (PutTags) or keys (DeleteTags) one statement
// carries, well under SQLite's limit on bound parameters.
const tagChunk = 256

func (t *tx) Tags(resourceARN string) (map[string]string, error) {
	op := "tags " + resourceARN
	rows, err := t.q.QueryContext(t.ctx, `SELECT tag_key, tag_value FROM tags WHERE resource_arn = ?`, resourceARN)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return out, nil
}

// PutTags upserts the tags in key order, tagChunk rows per statement.
func (t *tx) PutTags(resourceARN string, tags map[string]string) error {
	op := "put tags " + resourceARN
	if len(tags) == 0 {
		if !t.write {
			return fmt.Errorf("%s: %w", op, errReadOnly)
		}
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), tagChunk)]
		keys = keys[len(chunk):]
		var b strings.Builder
		b.WriteString(`INSERT INTO tags (resource_arn, tag_key, tag_value) VALUES `)
		args := make([]any, 0, 3*len(chunk))
		for i, k := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, resourceARN, k, tags[k])
		}
		b.WriteString(` ON CONFLICT (resource_arn, tag_key) DO UPDATE SET tag_value = excluded.tag_value`)
		if _, err := t.exec(op, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// DeleteTags removes every tag of the resource when keys is nil, and none
// when keys is empty but not nil.
func (t *tx) DeleteTags(resourceARN string, keys []string) error {
	op := "delete tags " + resourceARN
	if keys == nil {
		_, err := t.exec(op, `DELETE FROM tags WHERE resource_arn = ?`, resourceARN)
		return err
	}
	if len(keys) == 0 && !t.write {
		return fmt.Errorf("%s: %w", op, errReadOnly)
	}
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), tagChunk)]
		keys = keys[len(chunk):]
		q := `DELETE FROM tags WHERE resource_arn = ? AND tag_key IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		args := make([]any, 0, 1+len(chunk))
		args = append(args, resourceARN)
		for _, k := range chunk {
			args = append(args, k)
		}
		if _, err := t.exec(op, q, args...); err != nil {
			return err
		}
	}
	return nil
}
