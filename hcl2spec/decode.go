package hcl2spec

import (
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// PathError is a value that could not be stored in its Config field.
type PathError struct {
	Path []string // attribute path, e.g. ["launch_block_device_mappings", "0", "volume_size"]
	Err  error
}

// Error implements error.
func (e *PathError) Error() string { return strings.Join(e.Path, ".") + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// Decode stores val, an object decoded with a spec generated from target's
// type, into target, a pointer to a Config struct. Null and unknown values
// leave the zero value (or any value already set); marks such as
// sensitivity are removed. The error, if any, joins one *PathError per
// value that does not fit its field (for example 1.5 for an int).
func Decode(val cty.Value, target any) error {
	rv := reflect.ValueOf(target)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("decode target must be a non-nil pointer to a struct, not %T", target)
	}
	val, _ = val.UnmarkDeep()
	var errs []error
	decodeStruct(val, rv.Elem(), nil, &errs)
	return errors.Join(errs...)
}

func decodeStruct(val cty.Value, rv reflect.Value, path []string, errs *[]error) {
	if val.IsNull() || !val.IsKnown() {
		return
	}
	if !val.Type().IsObjectType() {
		*errs = append(*errs, &PathError{path, fmt.Errorf("want an object, got %s", val.Type().FriendlyName())})
		return
	}
	fields, err := Fields(rv.Type())
	if err != nil {
		*errs = append(*errs, &PathError{path, err})
		return
	}
	for _, f := range fields {
		if !val.Type().HasAttribute(f.Name) {
			continue
		}
		fv := rv.FieldByIndex(f.Index)
		decodeValue(val.GetAttr(f.Name), fv, appendPath(path, f.Name), errs)
	}
}

func decodeValue(val cty.Value, rv reflect.Value, path []string, errs *[]error) {
	if val.IsNull() || !val.IsKnown() {
		return
	}
	fail := func(err error) { *errs = append(*errs, &PathError{path, err}) }
	switch rv.Kind() {
	case reflect.Pointer:
		elem := reflect.New(rv.Type().Elem())
		decodeValue(val, elem.Elem(), path, errs)
		rv.Set(elem)
	case reflect.Struct:
		decodeStruct(val, rv, path, errs)
	case reflect.Slice:
		decodeSlice(val, rv, path, errs)
	case reflect.Map:
		decodeMap(val, rv, path, errs)
	default:
		if err := decodeScalar(val, rv); err != nil {
			fail(err)
		}
	}
}

func decodeSlice(val cty.Value, rv reflect.Value, path []string, errs *[]error) {
	ty := val.Type()
	if !ty.IsListType() && !ty.IsSetType() && !ty.IsTupleType() {
		*errs = append(*errs, &PathError{path, fmt.Errorf("want a list, got %s", ty.FriendlyName())})
		return
	}
	out := reflect.MakeSlice(rv.Type(), 0, val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		_, ev := it.Element()
		elem := reflect.New(rv.Type().Elem()).Elem()
		decodeValue(ev, elem, appendPath(path, strconv.Itoa(out.Len())), errs)
		out = reflect.Append(out, elem)
	}
	rv.Set(out)
}

func decodeMap(val cty.Value, rv reflect.Value, path []string, errs *[]error) {
	ty := val.Type()
	if !ty.IsMapType() && !ty.IsObjectType() {
		*errs = append(*errs, &PathError{path, fmt.Errorf("want a map, got %s", ty.FriendlyName())})
		return
	}
	out := reflect.MakeMapWithSize(rv.Type(), val.LengthInt())
	for it := val.ElementIterator(); it.Next(); {
		k, ev := it.Element()
		elem := reflect.New(rv.Type().Elem()).Elem()
		decodeValue(ev, elem, appendPath(path, k.AsString()), errs)
		out.SetMapIndex(reflect.ValueOf(k.AsString()).Convert(rv.Type().Key()), elem)
	}
	rv.Set(out)
}

// decodeScalar stores a string, bool or number, converting val as HCL
// would (so "true" fills a bool and 5 fills a string).
func decodeScalar(val cty.Value, rv reflect.Value) error {
	want, err := CtyType(rv.Type())
	if err != nil {
		return err
	}
	v, err := convert.Convert(val, want)
	if err != nil {
		return err
	}
	switch rv.Kind() {
	case reflect.String:
		rv.SetString(v.AsString())
	case reflect.Bool:
		rv.SetBool(v.True())
	case reflect.Float32, reflect.Float64:
		f, _ := v.AsBigFloat().Float64()
		rv.SetFloat(f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return setInt(v.AsBigFloat(), rv)
	default: // unsigned
		return setUint(v.AsBigFloat(), rv)
	}
	return nil
}

func setInt(f *big.Float, rv reflect.Value) error {
	i, acc := f.Int64()
	if acc != big.Exact || rv.OverflowInt(i) {
		return fmt.Errorf("want a whole number that fits %s, got %s", rv.Type(), f.Text('g', -1))
	}
	rv.SetInt(i)
	return nil
}

func setUint(f *big.Float, rv reflect.Value) error {
	u, acc := f.Uint64()
	if acc != big.Exact || rv.OverflowUint(u) {
		return fmt.Errorf("want a whole number from 0 that fits %s, got %s", rv.Type(), f.Text('g', -1))
	}
	rv.SetUint(u)
	return nil
}

func appendPath(path []string, elem string) []string {
	return append(append([]string(nil), path...), elem)
}
