package template

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"
	"golang.org/x/crypto/bcrypt"
)

// funcCase is one call of a template function. want is an HCL expression
// whose value the call must equal (compared as JSON, so a tuple equals a
// list with the same elements); match, when set instead, is a regular
// expression the string result must match; check, when set, inspects the
// result; err, when set, is a substring of the error the call must give.
type funcCase struct {
	expr  string
	want  string
	match string
	check func(t *testing.T, got cty.Value)
	err   string
}

// funcCases holds, for every function of the table, the examples of
// Packer's documentation for it (and a few edge cases it documents).
var funcCases = map[string][]funcCase{
	"abs":   {{expr: `abs(23)`, want: `23`}, {expr: `abs(0)`, want: `0`}, {expr: `abs(-12.4)`, want: `12.4`}},
	"ceil":  {{expr: `ceil(5)`, want: `5`}, {expr: `ceil(5.1)`, want: `6`}},
	"floor": {{expr: `floor(5)`, want: `5`}, {expr: `floor(4.9)`, want: `4`}},
	"log": {
		{expr: `log(16, 2)`, want: `4`}, {expr: `log(1, 10)`, want: `0`},
		{expr: `floor(log(50, 10) * 1000)`, want: `1698`},
	},
	"max": {{expr: `max(12, 54, 3)`, want: `54`}, {expr: `max([12, 54, 3]...)`, want: `54`}},
	"min": {{expr: `min(12, 54, 3)`, want: `3`}, {expr: `min([12, 54, 3]...)`, want: `3`}},
	"parseint": {
		{expr: `parseint("100", 10)`, want: `100`}, {expr: `parseint("FF", 16)`, want: `255`},
		{expr: `parseint("-10", 16)`, want: `-16`}, {expr: `parseint("1011111011101111", 2)`, want: `48879`},
		{expr: `parseint("aA", 62)`, want: `656`}, {expr: `parseint("12", 2)`, err: `cannot parse "12" as a base 2 integer`},
	},
	"pow":    {{expr: `pow(3, 2)`, want: `9`}, {expr: `pow(4, 0)`, want: `1`}},
	"signum": {{expr: `signum(-13)`, want: `-1`}, {expr: `signum(0)`, want: `0`}, {expr: `signum(344)`, want: `1`}},

	"chomp": {
		{expr: `chomp("hello\n")`, want: `"hello"`}, {expr: `chomp("hello\r\n")`, want: `"hello"`},
		{expr: `chomp("hello\n\n")`, want: `"hello"`},
	},
	"format": {
		{expr: `format("Hello, %s!", "Ander")`, want: `"Hello, Ander!"`},
		{expr: `format("There are %d lights", 4)`, want: `"There are 4 lights"`},
	},
	"formatlist": {{
		expr: `formatlist("Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"])`,
		want: `["Hello, Valentina!", "Hello, Ander!", "Hello, Olivia!", "Hello, Sam!"]`,
	}, {
		expr: `formatlist("%s, %s!", "Salutations", ["Valentina", "Ander"])`,
		want: `["Salutations, Valentina!", "Salutations, Ander!"]`,
	}},
	"indent": {{expr: `"  items: ${indent(2, "[\n  foo,\n  bar,\n]\n")}"`, want: `"  items: [\n    foo,\n    bar,\n  ]\n  "`}},
	"join": {
		{expr: `join(", ", ["foo", "bar", "baz"])`, want: `"foo, bar, baz"`},
		{expr: `join(", ", ["foo"])`, want: `"foo"`},
	},
	"lower": {{expr: `lower("HELLO")`, want: `"hello"`}, {expr: `lower("АЛЛО!")`, want: `"алло!"`}},
	"upper": {{expr: `upper("hello")`, want: `"HELLO"`}, {expr: `upper("алло!")`, want: `"АЛЛО!"`}},
	"regex": {
		{expr: `regex("[a-z]+", "53453453.345345aaabbbccc23454")`, want: `"aaabbbccc"`},
		{expr: `regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")`, want: `["2019", "02", "01"]`},
		{
			expr: `regex("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?", "https://terraform.io/docs/")`,
			want: `{authority = "terraform.io", scheme = "https"}`,
		},
		{expr: `regex("[a-z]+", "53453453.34534523454")`, err: "pattern did not match"},
	},
	"regexall": {
		{expr: `regexall("[a-z]+", "1234abcd5678efgh9")`, want: `["abcd", "efgh"]`},
		{expr: `length(regexall("[a-z]+", "1234abcd5678efgh9"))`, want: `2`},
		{expr: `length(regexall("[a-z]+", "123456789")) > 0`, want: `false`},
	},
	"regex_replace": {
		{expr: `regex_replace("hello world", "w.*d", "there")`, want: `"hello there"`},
		{expr: `regex_replace("2019-02-01", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1")`, want: `"01/02/2019"`},
	},
	"replace": {
		{expr: `replace("1 + 2 + 3", "+", "-")`, want: `"1 - 2 - 3"`},
		// go-cty's replace, which Packer uses, takes the substring literally.
		{expr: `replace("hello world", "/w.*d/", "everybody")`, want: `"hello world"`},
	},
	"split": {
		{expr: `split(",", "foo,bar,baz")`, want: `["foo", "bar", "baz"]`},
		{expr: `split(",", "foo")`, want: `["foo"]`}, {expr: `split(",", "")`, want: `[""]`},
	},
	"strrev": {{expr: `strrev("hello")`, want: `"olleh"`}, {expr: `strrev("a ☃")`, want: `"☃ a"`}},
	"substr": {
		{expr: `substr("hello world", 1, 4)`, want: `"ello"`}, {expr: `substr("🤔🤷", 0, 1)`, want: `"🤔"`},
		{expr: `substr("hello world", -5, -1)`, want: `"world"`}, {expr: `substr("hello world", 6, 10)`, want: `"world"`},
	},
	"title":      {{expr: `title("hello world")`, want: `"Hello World"`}},
	"trim":       {{expr: `trim("?!hello?!", "!?")`, want: `"hello"`}, {expr: `trim("foobar", "far")`, want: `"oob"`}},
	"trimprefix": {{expr: `trimprefix("helloworld", "hello")`, want: `"world"`}, {expr: `trimprefix("helloworld", "cat")`, want: `"helloworld"`}},
	"trimsuffix": {{expr: `trimsuffix("helloworld", "world")`, want: `"hello"`}},
	"trimspace":  {{expr: `trimspace("  hello\n\n")`, want: `"hello"`}},
	"startswith": {{expr: `startswith("hello world", "hello")`, want: `true`}, {expr: `startswith("hello world", "world")`, want: `false`}},
	"endswith":   {{expr: `endswith("hello world", "world")`, want: `true`}, {expr: `endswith("hello world", "hello")`, want: `false`}},
	"strcontains": {
		{expr: `strcontains("hello world", "wor")`, want: `true`}, {expr: `strcontains("hello world", "wod")`, want: `false`},
	},

	"alltrue": {
		{expr: `alltrue(["true", true])`, want: `true`}, {expr: `alltrue([true, false])`, want: `false`},
		{expr: `alltrue([])`, want: `true`}, {expr: `alltrue([true, null])`, want: `false`},
	},
	"anytrue": {
		{expr: `anytrue(["true"])`, want: `true`}, {expr: `anytrue([true, false])`, want: `true`},
		{expr: `anytrue([])`, want: `false`}, {expr: `anytrue([false, null])`, want: `false`},
	},
	"chunklist": {
		{expr: `chunklist(["a", "b", "c", "d", "e"], 2)`, want: `[["a", "b"], ["c", "d"], ["e"]]`},
		{expr: `chunklist(["a", "b", "c", "d", "e"], 1)`, want: `[["a"], ["b"], ["c"], ["d"], ["e"]]`},
	},
	"coalesce": {
		{expr: `coalesce("a", "b")`, want: `"a"`}, {expr: `coalesce("", "b")`, want: `"b"`},
		{expr: `coalesce(1, 2)`, want: `1`}, {expr: `coalesce(["", "b"]...)`, want: `"b"`},
	},
	"coalescelist": {
		{expr: `coalescelist(["a", "b"], ["c", "d"])`, want: `["a", "b"]`},
		{expr: `coalescelist([], ["c", "d"])`, want: `["c", "d"]`},
		{expr: `coalescelist([[], ["c", "d"]]...)`, want: `["c", "d"]`},
	},
	"compact":  {{expr: `compact(["a", "", "b", "c"])`, want: `["a", "b", "c"]`}},
	"concat":   {{expr: `concat(["a", ""], ["b", "c"])`, want: `["a", "", "b", "c"]`}},
	"contains": {{expr: `contains(["a", "b", "c"], "a")`, want: `true`}, {expr: `contains(["a", "b", "c"], "d")`, want: `false`}},
	"distinct": {{expr: `distinct(["a", "b", "a", "c", "d", "b"])`, want: `["a", "b", "c", "d"]`}},
	"element": {
		{expr: `element(["a", "b", "c"], 1)`, want: `"b"`}, {expr: `element(["a", "b", "c"], 3)`, want: `"a"`},
		{expr: `element(["a", "b", "c"], length(["a", "b", "c"])-1)`, want: `"c"`},
	},
	"flatten": {
		{expr: `flatten([["a", "b"], [], ["c"]])`, want: `["a", "b", "c"]`},
		{expr: `flatten([[["a", "b"], []], ["c"]])`, want: `["a", "b", "c"]`},
	},
	"index": {
		{expr: `index(["a", "b", "c"], "b")`, want: `1`},
		{expr: `index(["a", "b", "c"], "d")`, err: "item not found"},
		{expr: `index([], "a")`, err: "cannot search an empty list"},
	},
	"keys": {{expr: `keys({a = 1, c = 2, d = 3})`, want: `["a", "c", "d"]`}},
	"length": {
		{expr: `length([])`, want: `0`}, {expr: `length(["a", "b"])`, want: `2`},
		{expr: `length({"a" = "b"})`, want: `1`}, {expr: `length("hello")`, want: `5`},
		{expr: `length("👾🕹️")`, want: `2`},
	},
	"lookup": {
		{expr: `lookup({a = "ay", b = "bee"}, "a", "what?")`, want: `"ay"`},
		{expr: `lookup({a = "ay", b = "bee"}, "c", "what?")`, want: `"what?"`},
	},
	"merge": {
		{expr: `merge({a = "b", c = "d"}, {e = "f", c = "z"})`, want: `{a = "b", c = "z", e = "f"}`},
		{expr: `merge({a = "b"}, {a = [1, 2], c = "z"}, {d = 3})`, want: `{a = [1, 2], c = "z", d = 3}`},
	},
	"range": {
		{expr: `range(3)`, want: `[0, 1, 2]`}, {expr: `range(1, 4)`, want: `[1, 2, 3]`},
		{expr: `range(1, 8, 2)`, want: `[1, 3, 5, 7]`}, {expr: `range(1, 4, 0.5)`, want: `[1, 1.5, 2, 2.5, 3, 3.5]`},
		{expr: `range(4, 1)`, want: `[4, 3, 2]`}, {expr: `range(10, 5, -2)`, want: `[10, 8, 6]`},
	},
	"reverse":         {{expr: `reverse([1, 2, 3])`, want: `[3, 2, 1]`}},
	"setintersection": {{expr: `setintersection(["a", "b"], ["b", "c"], ["b", "d"])`, want: `["b"]`}},
	"setproduct": {{
		expr: `setproduct(["development", "staging", "production"], ["app1", "app2"])`,
		want: `[["development", "app1"], ["development", "app2"], ["staging", "app1"], ["staging", "app2"], ["production", "app1"], ["production", "app2"]]`,
	}},
	"setsubtract": {{expr: `setsubtract(["a", "b", "c"], ["a", "c"])`, want: `["b"]`}},
	"setunion":    {{expr: `setunion(["a", "b"], ["b", "c"], ["d"])`, want: `["a", "b", "c", "d"]`}},
	"slice":       {{expr: `slice(["a", "b", "c", "d"], 1, 3)`, want: `["b", "c"]`}},
	"sort":        {{expr: `sort(["e", "d", "a", "x"])`, want: `["a", "d", "e", "x"]`}},
	"sum":         {{expr: `sum([10, 13, 6, 4.5])`, want: `33.5`}},
	"values":      {{expr: `values({a = 3, c = 2, d = 1})`, want: `[3, 2, 1]`}},
	"zipmap":      {{expr: `zipmap(["a", "b"], [1, 2])`, want: `{a = 1, b = 2}`}},

	"csvdecode": {{
		expr: `csvdecode("a,b,c\n1,2,3\n4,5,6")`,
		want: `[{a = "1", b = "2", c = "3"}, {a = "4", b = "5", c = "6"}]`,
	}},
	"jsondecode": {{expr: `jsondecode("{\"hello\": \"world\"}")`, want: `{hello = "world"}`}, {expr: `jsondecode("true")`, want: `true`}},
	"jsonencode": {{expr: `jsonencode({"hello" = "world"})`, want: `"{\"hello\":\"world\"}"`}},
	"yamldecode": {
		{expr: `yamldecode("hello: world")`, want: `{hello = "world"}`},
		{expr: `yamldecode("true")`, want: `true`},
		{expr: `yamldecode("{a: &foo [1, 2, 3], b: *foo}")`, want: `{a = [1, 2, 3], b = [1, 2, 3]}`},
	},
	"yamlencode": {
		{expr: `yamlencode({"a" = "b", "c" = "d"})`, want: `"\"a\": \"b\"\n\"c\": \"d\"\n"`},
		{expr: `yamlencode({"foo" = [1, 2, 3], "bar" = "baz"})`, want: `"\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"`},
	},
	"base64decode": {{expr: `base64decode("SGVsbG8gV29ybGQ=")`, want: `"Hello World"`}},
	"base64encode": {{expr: `base64encode("Hello World")`, want: `"SGVsbG8gV29ybGQ="`}},
	"base64gzip": {{expr: `base64gzip("Hello World")`, check: func(t *testing.T, got cty.Value) {
		raw, err := base64.StdEncoding.DecodeString(got.AsString())
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if b, err := io.ReadAll(zr); err != nil || string(b) != "Hello World" {
			t.Errorf("gunzip = %q, %v; want Hello World", b, err)
		}
	}}},
	"textencodebase64": {
		{expr: `textencodebase64("Hello World", "UTF-16LE")`, want: `"SABlAGwAbABvACAAVwBvAHIAbABkAA=="`},
		{expr: `textencodebase64("Hello World", "NOT-AN-ENCODING")`, err: "is not a supported IANA encoding"},
		{expr: `textencodebase64("☃", "US-ASCII")`, err: "cannot be represented in US-ASCII"},
	},
	"textdecodebase64": {
		{expr: `textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")`, want: `"Hello World"`},
		{expr: `textdecodebase64("not base64!", "UTF-16LE")`, err: "not valid base64"},
	},
	"urlencode": {
		{expr: `urlencode("Hello World")`, want: `"Hello+World"`}, {expr: `urlencode("☃")`, want: `"%E2%98%83"`},
		{expr: `"http://example.com/search?q=${urlencode("terraform urlencode")}"`, want: `"http://example.com/search?q=terraform+urlencode"`},
	},

	"cidrhost": {
		{expr: `cidrhost("10.12.112.0/20", 16)`, want: `"10.12.112.16"`},
		{expr: `cidrhost("10.12.112.0/20", 268)`, want: `"10.12.113.12"`},
		{expr: `cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)`, want: `"fd00:fd12:3456:7890::22"`},
	},
	"cidrnetmask": {{expr: `cidrnetmask("172.16.0.0/12")`, want: `"255.240.0.0"`}},
	"cidrsubnet": {
		{expr: `cidrsubnet("172.16.0.0/12", 4, 2)`, want: `"172.18.0.0/16"`},
		{expr: `cidrsubnet("10.1.2.0/24", 4, 15)`, want: `"10.1.2.240/28"`},
		{expr: `cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)`, want: `"fd00:fd12:3456:7800:a200::/72"`},
	},
	"cidrsubnets": {
		{expr: `cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)`, want: `["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"]`},
		{
			expr: `cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)`,
			want: `["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88"]`,
		},
	},

	"md5":    {{expr: `md5("hello world")`, want: `"5eb63bbbe01eeed093cb22bb8f5acdc3"`}},
	"sha1":   {{expr: `sha1("hello world")`, want: `"2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"`}},
	"sha256": {{expr: `sha256("hello world")`, want: `"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"`}},
	"sha512": {{
		expr: `sha512("hello world")`,
		want: `"309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f"`,
	}},
	"bcrypt": {{expr: `bcrypt("hello world")`, check: func(t *testing.T, got cty.Value) {
		if err := bcrypt.CompareHashAndPassword([]byte(got.AsString()), []byte("hello world")); err != nil {
			t.Errorf("bcrypt hash %q does not match: %v", got.AsString(), err)
		}
		if cost, _ := bcrypt.Cost([]byte(got.AsString())); cost != 10 {
			t.Errorf("cost %d, want the default 10", cost)
		}
	}}},
	"rsadecrypt": {
		{expr: `rsadecrypt(ciphertext, privatekey)`, want: `"Hello World"`},
		{expr: `rsadecrypt(ciphertext, "bad key")`, err: "failed to parse key"},
	},
	"uuidv4": {{expr: `uuidv4()`, match: `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`}},
	"uuidv5": {
		{expr: `uuidv5("dns", "www.terraform.io")`, want: `"a5008fae-b28c-5ba5-96cd-82b4c53552d6"`},
		{expr: `uuidv5("url", "https://www.terraform.io/")`, want: `"9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5"`},
	},

	"formatdate": {
		{expr: `formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")`, want: `"02 Jan 2018 23:12 UTC"`},
		{expr: `formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")`, want: `"Tuesday, 02-Jan-18 23:12:01 UTC"`},
		{expr: `formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")`, want: `"Tue, 02 Jan 2018 23:12:01 -0800"`},
		{expr: `formatdate("MMM DD, YYYY", "2018-01-02T23:12:01Z")`, want: `"Jan 02, 2018"`},
		{expr: `formatdate("HH:mmaa", "2018-01-02T23:12:01Z")`, want: `"11:12pm"`},
	},
	"timeadd": {
		{expr: `timeadd("2017-11-22T00:00:00Z", "10m")`, want: `"2017-11-22T00:10:00Z"`},
		{expr: `timeadd("2017-11-22T00:00:00Z", "-1h")`, want: `"2017-11-21T23:00:00Z"`},
	},
	// The run's start time is 2026-11-10T12:00:00Z (fixed by the test).
	"timestamp": {{expr: `timestamp()`, want: `"2026-11-10T12:00:00Z"`}},
	"legacy_isotime": {
		{expr: `legacy_isotime()`, want: `"2026-11-10T12:00:00Z"`},
		{expr: `legacy_isotime("2006-01-02")`, want: `"2026-11-10"`},
		{expr: `legacy_isotime("06-01-02", "x")`, err: "too many arguments"},
	},
	"legacy_strftime": {
		{expr: `legacy_strftime()`, want: `"2026-11-10T12:00:00Z"`},
		{expr: `legacy_strftime("%Y-%m-%d")`, want: `"2026-11-10"`},
		{expr: `legacy_strftime("%A %B %d %H:%M:%S")`, want: `"Tuesday November 10 12:00:00"`},
	},
	"rfc3339_parse": {
		{expr: `rfc3339_parse("2023-07-25T23:43:16-07:00")`, want: `{
			year = 2023, year_day = 206, day = 25, month = 7, month_name = "July",
			weekday = 2, weekday_name = "Tuesday", hour = 23, minute = 43, second = 16,
			unix = 1690353796, iso_year = 2023, iso_week = 30 }`},
		{expr: `rfc3339_parse("2023-07-25 23:43:16Z").unix`, want: `1690328596`},
		{expr: `rfc3339_parse("2023-07-25")`, err: `"2023-07-25" is not a valid RFC3339 timestamp`},
	},
	"unix_timestamp_parse": {
		{expr: `unix_timestamp_parse(1690328596)`, want: `{
			year = 2023, year_day = 206, day = 25, month = 7, month_name = "July",
			weekday = 2, weekday_name = "Tuesday", hour = 23, minute = 43, second = 16,
			rfc3339 = "2023-07-25T23:43:16Z", iso_year = 2023, iso_week = 30 }`},
		{expr: `unix_timestamp_parse(1.5)`, err: "whole number"},
	},

	"tobool":   {{expr: `tobool("true")`, want: `true`}, {expr: `tobool(null)`, want: `null`}, {expr: `tobool("no")`, err: "cannot convert"}},
	"tolist":   {{expr: `tolist(["a", "b", "c"])`, want: `["a", "b", "c"]`}, {expr: `tolist(["a", "b", 3])`, want: `["a", "b", "3"]`}},
	"tomap":    {{expr: `tomap({"a" = 1, "b" = 2})`, want: `{a = 1, b = 2}`}, {expr: `tomap({"a" = "foo", "b" = true})`, want: `{a = "foo", b = "true"}`}},
	"tonumber": {{expr: `tonumber(1)`, want: `1`}, {expr: `tonumber("1")`, want: `1`}, {expr: `tonumber("no")`, err: "cannot convert"}},
	"toset":    {{expr: `toset(["c", "b", "b"])`, want: `["b", "c"]`}, {expr: `toset(["a", "b", 3])`, want: `["3", "a", "b"]`}},
	"tostring": {{expr: `tostring("hello")`, want: `"hello"`}, {expr: `tostring(1)`, want: `"1"`}, {expr: `tostring(true)`, want: `"true"`}},
	"convert":  {{expr: `convert({"a" = 1}, map(string))`, want: `{a = "1"}`}, {expr: `convert(["c", "b", "b"], set(string))`, want: `["b", "c"]`}},
	"try": {
		{expr: `try(tonumber("x"), 0)`, want: `0`},
		{expr: `try(jsondecode("{\"a\": 1}").b, "fallback")`, want: `"fallback"`},
	},
	"can": {{expr: `can(tonumber("x"))`, want: `false`}, {expr: `can(tonumber("1"))`, want: `true`}},

	// File functions: relative paths are resolved against the template
	// directory (the test's temporary directory).
	"file":       {{expr: `file("hello.txt")`, want: `"Hello World"`}, {expr: `file("missing.txt")`, err: "missing.txt"}},
	"filebase64": {{expr: `filebase64("hello.txt")`, want: `"SGVsbG8gV29ybGQ="`}, {expr: `filebase64("missing.txt")`, err: "failed to read file"}},
	"fileexists": {{expr: `fileexists("hello.txt")`, want: `true`}, {expr: `fileexists("missing.txt")`, want: `false`}},
	"fileset": {
		{expr: `fileset(".", "*.txt")`, want: `["hello.txt"]`},
		{expr: `fileset(".", "*.{txt,tpl}")`, want: `["greet.tpl", "hello.txt"]`},
	},
	"templatefile": {{expr: `templatefile("greet.tpl", {name = "Ander"})`, want: `"Hello, Ander!"`}},
	"basename":     {{expr: `basename("foo/bar/baz.txt")`, want: `"baz.txt"`}},
	"dirname":      {{expr: `dirname("foo/bar/baz.txt")`, want: `"foo/bar"`}},
	"abspath":      {{expr: `abspath("/foo/../bar")`, want: `"/bar"`}},
	"pathexpand": {
		{expr: `pathexpand("~/.ssh/id_rsa")`, want: `"/home/test/.ssh/id_rsa"`},
		{expr: `pathexpand("/etc/resolv.conf")`, want: `"/etc/resolv.conf"`},
	},
}

// TestFileFunctionsBaseDirs: as in Packer, file, fileexists, fileset and
// templatefile read relative paths from the template's directory
// (path.root), and filebase64 from the working directory (path.cwd).
func TestFileFunctionsBaseDirs(t *testing.T) {
	root, work := t.TempDir(), t.TempDir()
	for path, data := range map[string]string{filepath.Join(root, "in-root.txt"): "root", filepath.Join(work, "in-work.txt"): "work"} {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &loader{opts: Options{Now: time.Now()}, t: &Template{Dir: root, WorkDir: work}}
	ctx := &hcl.EvalContext{Functions: l.functions()}
	for expr, want := range map[string]string{
		`file("in-root.txt")`:                    `"root"`,
		`fileexists("in-root.txt")`:              `true`,
		`fileexists("in-work.txt")`:              `false`,
		`tolist(fileset(".", "*.txt"))`:          `["in-root.txt"]`,
		`templatefile("in-root.txt", {})`:        `"root"`,
		`filebase64("in-work.txt")`:              `"d29yaw=="`,
		`can(filebase64("in-root.txt"))`:         `false`,
		`can(file("in-work.txt"))`:               `false`,
		`filebase64("` + root + `/in-root.txt")`: `"cm9vdA=="`,
	} {
		got, diags := evalExpr(expr, ctx)
		if diags.HasErrors() {
			t.Errorf("%s: %v", expr, diags)
			continue
		}
		w, _ := evalExpr(want, ctx)
		if g, w := jsonOf(t, got), jsonOf(t, w); g != w {
			t.Errorf("%s = %s, want %s", expr, g, w)
		}
	}
}

// TestFunctionTable runs every case of funcCases and checks that every
// function of the table has at least one, so a function added without a
// test fails here.
func TestFunctionTable(t *testing.T) {
	t.Setenv("HOME", "/home/test")
	dir := t.TempDir()
	for name, data := range map[string]string{"hello.txt": "Hello World", "greet.tpl": "Hello, ${name}!"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l := &loader{opts: Options{Now: time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)}, t: &Template{Dir: dir, WorkDir: dir}}
	funcs := l.functions()
	ctx := &hcl.EvalContext{Functions: funcs, Variables: rsaVariables(t)}

	var names []string
	for name := range funcs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if len(funcCases[name]) == 0 {
			t.Errorf("function %s has no case in funcCases", name)
		}
	}
	for name, cases := range funcCases {
		if _, ok := funcs[name]; !ok {
			t.Errorf("funcCases has cases for %s, which is not in the function table", name)
		}
		for _, c := range cases {
			t.Run(name+"/"+c.expr, func(t *testing.T) {
				got, diags := evalExpr(c.expr, ctx)
				if c.err != "" {
					if !diags.HasErrors() || !strings.Contains(diags.Error(), c.err) {
						t.Fatalf("%s = %#v, %v; want an error containing %q", c.expr, got, diags, c.err)
					}
					return
				}
				if diags.HasErrors() {
					t.Fatalf("%s: %v", c.expr, diags)
				}
				switch {
				case c.check != nil:
					c.check(t, got)
				case c.match != "":
					if got.Type() != cty.String || !regexp.MustCompile(c.match).MatchString(got.AsString()) {
						t.Errorf("%s = %#v; want a string matching %s", c.expr, got, c.match)
					}
				default:
					want, diags := evalExpr(c.want, ctx)
					if diags.HasErrors() {
						t.Fatalf("want %s: %v", c.want, diags)
					}
					if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
						t.Errorf("%s = %s; want %s", c.expr, g, w)
					}
				}
			})
		}
	}
}

func evalExpr(src string, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	expr, diags := hclsyntax.ParseExpression([]byte(src), "case.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	return expr.Value(ctx)
}

func jsonOf(t *testing.T, v cty.Value) string {
	t.Helper()
	if v.IsNull() {
		return "null"
	}
	b, err := ctyjson.Marshal(v, v.Type())
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return string(b)
}

// rsaVariables makes the ciphertext and privatekey of rsadecrypt's cases:
// "Hello World" encrypted (PKCS #1 v1.5) for a fresh key, in base64, and
// the key in PEM, as Packer's documentation example reads them from files.
func rsaVariables(t *testing.T) map[string]cty.Value {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 rsadecrypt decrypts PKCS #1 v1.5 ciphertext, as Packer's does.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, &key.PublicKey, []byte("Hello World"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return map[string]cty.Value{
		"ciphertext": cty.StringVal(base64.StdEncoding.EncodeToString(ct)),
		"privatekey": cty.StringVal(string(keyPEM)),
	}
}
