package query

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Decode fills the struct v points to from the form's fields.
//
// Each exported field with a `query:"Name"` tag reads the member Name
// (inside a nested structure or list element, relative to its parent's
// key); `query:"Name,required"` makes its absence a ValidationError. Field
// types may be string, bool, int, int32, int64, a pointer to one of those
// (nil when the member is absent, so that "absent" and "zero" differ), a
// struct or pointer to a struct (members Name.X), a slice of any of these
// (Name.member.N, N from 1; "Name=" alone is an empty, non-nil list), and
// map[string]string (Name.entry.N.key and Name.entry.N.value). Fields
// without a tag and form fields no tag names are ignored.
//
// Decode panics if v is not a pointer to a struct or a tagged field has a
// type it does not support: both are programming errors.
func (f *Form) Decode(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("query: Decode needs a pointer to a struct, got %T", v))
	}
	_, err := f.decodeStruct("", rv.Elem())
	return err
}

// decodeStruct fills the tagged fields of a struct value from the members
// under prefix ("" at the top). It reports whether any member was present.
func (f *Form) decodeStruct(prefix string, v reflect.Value) (bool, error) {
	t := v.Type()
	found := false
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("query")
		if !ok || tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		present, err := f.decodeValue(key, v.Field(i))
		if err != nil {
			return false, err
		}
		if !present && opts == "required" {
			return false, Errorf(ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", key)
		}
		found = found || present
	}
	return found, nil
}

// decodeValue reads the member at key into v and reports whether the form
// holds it.
func (f *Form) decodeValue(key string, v reflect.Value) (bool, error) {
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		present, err := f.decodeValue(key, elem.Elem())
		if present && err == nil {
			v.Set(elem)
		}
		return present, err
	case reflect.Struct:
		if !f.hasPrefix(key + ".") {
			return false, nil
		}
		return f.decodeStruct(key, v)
	case reflect.Slice:
		return f.decodeList(key, v)
	case reflect.Map:
		return f.decodeMap(key, v)
	}
	s, ok := f.fields[key]
	if !ok {
		return false, nil
	}
	return true, setScalar(key, s, v)
}

// setScalar parses s into a string, bool or integer value.
func setScalar(key, s string, v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			return Errorf(ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean (true or false)", clip(s), key)
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, v.Type().Bits())
		if err != nil {
			return Errorf(ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", clip(s), key)
		}
		v.SetInt(n)
	default:
		panic(fmt.Sprintf("query: field %s has unsupported type %s", key, v.Type()))
	}
	return nil
}

// decodeList reads key.member.N elements in index order.
func (f *Form) decodeList(key string, v reflect.Value) (bool, error) {
	present := false
	if s, ok := f.fields[key]; ok {
		if s != "" {
			return false, Errorf(ValidationError, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a list (%s.member.N)", clip(s), key, key)
		}
		present = true
	}
	prefix := key + ".member."
	idx, err := f.indexes(prefix)
	if err != nil {
		return false, err
	}
	list := reflect.MakeSlice(v.Type(), 0, len(idx))
	for _, n := range idx {
		elem := reflect.New(v.Type().Elem()).Elem()
		ek := prefix + strconv.Itoa(n)
		ok, err := f.decodeValue(ek, elem)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, Errorf(ValidationError, "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", ek)
		}
		list = reflect.Append(list, elem)
	}
	if present || len(idx) > 0 {
		v.Set(list)
		return true, nil
	}
	return false, nil
}

// decodeMap reads key.entry.N.key / key.entry.N.value pairs into a
// map[string]string.
func (f *Form) decodeMap(key string, v reflect.Value) (bool, error) {
	if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
		panic(fmt.Sprintf("query: field %s has unsupported type %s", key, v.Type()))
	}
	prefix := key + ".entry."
	idx, err := f.indexes(prefix)
	if err != nil || len(idx) == 0 {
		return false, err
	}
	m := reflect.MakeMapWithSize(v.Type(), len(idx))
	for _, n := range idx {
		ek := prefix + strconv.Itoa(n)
		k, okK := f.fields[ek+".key"]
		val, okV := f.fields[ek+".value"]
		switch {
		case !okK:
			return false, Errorf(ValidationError, "1 validation error detected: Value null at '%s.key' failed to satisfy constraint: Member must not be null", ek)
		case !okV:
			return false, Errorf(ValidationError, "1 validation error detected: Value null at '%s.value' failed to satisfy constraint: Member must not be null", ek)
		case m.MapIndex(reflect.ValueOf(k)).IsValid():
			return false, Errorf(ValidationError, "1 validation error detected: Value '%s' at '%s.key' failed to satisfy constraint: Map keys must be unique", clip(k), ek)
		}
		m.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), reflect.ValueOf(val).Convert(v.Type().Elem()))
	}
	v.Set(m)
	return true, nil
}

// indexes returns, sorted, the distinct indexes N of the keys that start
// with prefix+N (followed by nothing or '.'). An index that is not a
// decimal in [1, MaxListLen] without leading zeros is a ValidationError.
func (f *Form) indexes(prefix string) ([]int, error) {
	var idx []int
	seen := make(map[int]bool)
	for k := range f.fields {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, _, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > MaxListLen || strconv.Itoa(n) != num {
			return nil, Errorf(ValidationError, "1 validation error detected: Parameter %s has a list index that is not a number from 1 to %d", quoteKey(k), MaxListLen)
		}
		if !seen[n] {
			seen[n] = true
			idx = append(idx, n)
		}
	}
	slices.Sort(idx)
	return idx, nil
}

// hasPrefix reports whether some field's key starts with prefix.
func (f *Form) hasPrefix(prefix string) bool {
	for k := range f.fields {
		if strings.HasPrefix(k, prefix) {
			return true
		}
	}
	return false
}

// clip shortens a value quoted in a message.
func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "..."
	}
	return s
}
