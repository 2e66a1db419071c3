package template

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
	"golang.org/x/crypto/bcrypt"
)

var (
	ctyBool    = cty.Bool
	ctyNumber  = cty.Number
	ctyString  = cty.String
	ctyListDyn = cty.List(cty.DynamicPseudoType)
	ctyMapDyn  = cty.Map(cty.DynamicPseudoType)
	ctySetDyn  = cty.Set(cty.DynamicPseudoType)
)

func stringFunc(impl func(s string) (cty.Value, error)) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return impl(args[0].AsString())
		},
	})
}

func stringPredicate(pred func(s, sub string) bool) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "str", Type: cty.String}, {Name: "substr", Type: cty.String}},
		Type:   function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(pred(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var (
	base64EncodeFunc = stringFunc(func(s string) (cty.Value, error) {
		return cty.StringVal(base64.StdEncoding.EncodeToString([]byte(s))), nil
	})
	base64DecodeFunc = stringFunc(func(s string) (cty.Value, error) {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return cty.NilVal, fmt.Errorf("invalid base64 data: %w", err)
		}
		if !utf8.Valid(b) {
			return cty.NilVal, fmt.Errorf("the decoded data is not valid UTF-8")
		}
		return cty.StringVal(string(b)), nil
	})
	urlEncodeFunc = stringFunc(func(s string) (cty.Value, error) {
		return cty.StringVal(url.QueryEscape(s)), nil
	})
	startsWithFunc  = stringPredicate(strings.HasPrefix)
	endsWithFunc    = stringPredicate(strings.HasSuffix)
	strContainsFunc = stringPredicate(strings.Contains)
	uuidV4Func      = function.New(&function.Spec{
		Type: function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) { return cty.StringVal(uuid.NewString()), nil },
	})
	uuidV5Func = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "namespace", Type: cty.String}, {Name: "name", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			ns, err := uuidNamespace(args[0].AsString())
			if err != nil {
				return cty.NilVal, err
			}
			return cty.StringVal(uuid.NewSHA1(ns, []byte(args[1].AsString())).String()), nil
		},
	})
	bcryptFunc = function.New(&function.Spec{
		Params:   []function.Parameter{{Name: "str", Type: cty.String}},
		VarParam: &function.Parameter{Name: "cost", Type: cty.Number},
		Type:     function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			cost := bcrypt.DefaultCost
			if len(args) > 1 {
				c, _ := args[1].AsBigFloat().Int64()
				cost = int(c)
			}
			h, err := bcrypt.GenerateFromPassword([]byte(args[0].AsString()), cost)
			if err != nil {
				return cty.NilVal, fmt.Errorf("bcrypt: %w", err)
			}
			return cty.StringVal(string(h)), nil
		},
	})
	// lengthFunc accepts strings and objects as well as collections, as
	// Packer's does.
	lengthFunc = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType, AllowDynamicType: true, AllowUnknown: true}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			switch ty := args[0].Type(); {
			case ty == cty.String:
				return stdlib.Strlen(args[0])
			case ty.IsObjectType():
				// An object (such as a { a = "b" } literal) counts its attributes.
				return cty.NumberIntVal(int64(len(ty.AttributeTypes()))), nil
			}
			return stdlib.Length(args[0])
		},
	})
	// sumFunc adds the numbers of a list or set.
	sumFunc = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "list", Type: cty.List(cty.Number)}},
		Type:   function.StaticReturnType(cty.Number),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			total := cty.NumberIntVal(0)
			for it := args[0].ElementIterator(); it.Next(); {
				_, v := it.Element()
				if v.IsNull() {
					return cty.NilVal, fmt.Errorf("sum: the list contains null")
				}
				total = total.Add(v)
			}
			return total, nil
		},
	})
)

func uuidNamespace(s string) (uuid.UUID, error) {
	switch s {
	case "dns":
		return uuid.NameSpaceDNS, nil
	case "url":
		return uuid.NameSpaceURL, nil
	case "oid":
		return uuid.NameSpaceOID, nil
	case "x500":
		return uuid.NameSpaceX500, nil
	}
	ns, err := uuid.Parse(s)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("uuidv5: namespace must be dns, url, oid, x500 or a UUID: %w", err)
	}
	return ns, nil
}

type hashKind int

const (
	hashMD5 hashKind = iota
	hashSHA1
	hashSHA256
	hashSHA512
)

func hashFunc(kind hashKind) function.Function {
	return stringFunc(func(s string) (cty.Value, error) {
		var h hash.Hash
		switch kind {
		case hashMD5:
			h = md5.New()
		case hashSHA1:
			h = sha1.New()
		case hashSHA256:
			h = sha256.New()
		default:
			h = sha512.New()
		}
		h.Write([]byte(s))
		return cty.StringVal(hex.EncodeToString(h.Sum(nil))), nil
	})
}

// timestampFunc returns the run's start time in RFC 3339, the same for
// every call in one run so names built from it agree.
func timestampFunc(now time.Time) function.Function {
	return function.New(&function.Spec{
		Type: function.StaticReturnType(cty.String),
		Impl: func([]cty.Value, cty.Type) (cty.Value, error) {
			return cty.StringVal(now.UTC().Format(time.RFC3339)), nil
		},
	})
}
