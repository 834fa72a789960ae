package document

// The delta is the part of desired that reported does not match (AWS IoT
// Developer Guide, "Delta state" and "/update/delta"):
//
//   - every desired key that reported lacks, or holds a different value for;
//   - objects on both sides are compared member by member, so the delta holds
//     only the differing leaves, with the path to them from the root;
//   - arrays, and values of different types, are compared whole;
//   - keys only in reported are not in the delta.
//
// Values in the delta are the desired ones, timestamps included, so the
// metadata of the delta mirrors the desired metadata of those keys.

// computeDelta returns the delta of desired against reported (either may be
// absent), kindNone when there is no difference.
func computeDelta(desired, reported *value) value {
	if desired.kind != kindObject {
		return value{}
	}
	if reported.kind != kindObject {
		return *desired
	}
	kids := diffObject(desired.kids, reported.kids)
	if len(kids) == 0 {
		return value{}
	}
	return value{kind: kindObject, kids: kids}
}

// diffObject returns the members of desired that differ from reported, nil
// when none do.
func diffObject(desired, reported []member) []member {
	var out []member
	ix := newIndex(reported)
	for i := range desired {
		d := &desired[i]
		j := ix.find(d.key)
		switch {
		case j < 0:
			// Only in desired.
		case d.val.kind == kindObject && reported[j].val.kind == kindObject:
			sub := diffObject(d.val.kids, reported[j].val.kids)
			if sub == nil {
				continue
			}
			if out == nil {
				out = make([]member, 0, len(desired)-i)
			}
			out = append(out, member{d.key, value{kind: kindObject, kids: sub}})
			continue
		case equal(&d.val, &reported[j].val):
			continue
		}
		if out == nil {
			out = make([]member, 0, len(desired)-i)
		}
		out = append(out, *d)
	}
	return out
}
