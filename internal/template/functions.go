package template

import (
	"github.com/hashicorp/go-cty-funcs/cidr"
	"github.com/hashicorp/go-cty-funcs/crypto"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	yaml "github.com/zclconf/go-cty-yaml"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions returns the functions available to template expressions: the
// go-cty standard library set Packer exposes, plus Packer's own functions
// for files, encodings, hashes, time, networks and UUIDs. Functions that
// reach secret stores (aws_secretsmanager, aws_secretsmanager_raw, vault,
// consul_key) are not provided.
func (l *loader) functions() map[string]function.Function {
	if l.funcs != nil {
		return l.funcs
	}
	f := map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"log": stdlib.LogFunc, "max": stdlib.MaxFunc, "min": stdlib.MinFunc,
		"parseint": stdlib.ParseIntFunc, "pow": stdlib.PowFunc, "signum": stdlib.SignumFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "regex_replace": stdlib.RegexReplaceFunc,
		"replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc,
		"substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc, "trim": stdlib.TrimFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"upper":     stdlib.UpperFunc,
		"chunklist": stdlib.ChunklistFunc, "coalesce": coalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"index": indexFunc, "keys": stdlib.KeysFunc, "length": lengthFunc,
		"lookup": stdlib.LookupFunc, "merge": stdlib.MergeFunc, "range": stdlib.RangeFunc,
		"reverse": stdlib.ReverseListFunc, "setintersection": stdlib.SetIntersectionFunc,
		"setproduct": stdlib.SetProductFunc, "setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "sum": sumFunc, "values": stdlib.ValuesFunc,
		"zipmap":    stdlib.ZipmapFunc,
		"csvdecode": stdlib.CSVDecodeFunc, "jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc,
		"yamldecode": yaml.YAMLDecodeFunc, "yamlencode": yaml.YAMLEncodeFunc,
		"base64decode": base64DecodeFunc, "base64encode": base64EncodeFunc,
		"urlencode": urlEncodeFunc, "startswith": startsWithFunc, "endswith": endsWithFunc,
		"strcontains": strContainsFunc, "base64gzip": base64GzipFunc,
		"textencodebase64": textEncodeBase64Func, "textdecodebase64": textDecodeBase64Func,
		"alltrue": allTrueFunc, "anytrue": anyTrueFunc,
		"cidrhost": cidr.HostFunc, "cidrnetmask": cidr.NetmaskFunc,
		"cidrsubnet": cidr.SubnetFunc, "cidrsubnets": cidr.SubnetsFunc,
		"rsadecrypt": crypto.RsaDecryptFunc,
		"md5":        hashFunc(hashMD5), "sha1": hashFunc(hashSHA1), "sha256": hashFunc(hashSHA256), "sha512": hashFunc(hashSHA512),
		"bcrypt": bcryptFunc, "uuidv4": uuidV4Func, "uuidv5": uuidV5Func,
		"formatdate": stdlib.FormatDateFunc, "timeadd": stdlib.TimeAddFunc,
		"timestamp": timestampFunc(l.opts.Now), "legacy_isotime": legacyTimeFunc(l.opts.Now, goLayout),
		"legacy_strftime": legacyTimeFunc(l.opts.Now, strftimeLayout),
		"rfc3339_parse":   rfc3339ParseFunc, "unix_timestamp_parse": unixTimestampParseFunc,
		"tobool": stdlib.MakeToFunc(ctyBool), "tolist": stdlib.MakeToFunc(ctyListDyn),
		"tomap": stdlib.MakeToFunc(ctyMapDyn), "tonumber": stdlib.MakeToFunc(ctyNumber),
		"toset": stdlib.MakeToFunc(ctySetDyn), "tostring": stdlib.MakeToFunc(ctyString),
		"convert": typeexpr.ConvertFunc,
		"try":     tryfunc.TryFunc, "can": tryfunc.CanFunc,
	}
	for name, fn := range fileFunctions(l.t.Dir) {
		f[name] = fn
	}
	f["filebase64"] = fileBase64Func(l.t.WorkDir)
	f["templatefile"] = templateFileFunc(l.t.Dir, func() map[string]function.Function { return f })
	l.funcs = f
	return f
}
