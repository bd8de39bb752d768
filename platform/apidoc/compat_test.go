package apidoc

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// direction says who writes a value. Clients write requests, so our document
// must accept at least what the reference lets them send; the server writes
// responses, so ours must send no more than the reference lets clients read.
type direction int

const (
	request direction = iota
	response
)

// compatChecker collects every way in which our document breaks a client
// written against the reference document.
type compatChecker struct {
	ref, ours *openapi3.T
	problems  []string
	seen      map[[2]*openapi3.Schema]bool
}

// checkCompatible returns the incompatibilities of ours with ref, sorted.
// An empty result means every operation, parameter, request field, response
// status and response field of ref exists in ours with a compatible type.
func checkCompatible(ref, ours *openapi3.T) []string {
	c := &compatChecker{ref: ref, ours: ours, seen: map[[2]*openapi3.Schema]bool{}}
	ourOps := operations(ours)
	for key, r := range operations(ref) {
		o, ok := ourOps[key]
		if !ok {
			c.addf("%s: operation missing", key)
			continue
		}
		c.parameters(key, r, o)
		c.security(key, r.op, o.op)
		c.requestBody(key, r.op.RequestBody, o.op.RequestBody)
		c.responses(key, r.op.Responses, o.op.Responses)
	}
	slices.Sort(c.problems)
	return c.problems
}

func (c *compatChecker) addf(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

type operation struct {
	item *openapi3.PathItem
	op   *openapi3.Operation
}

var pathParam = regexp.MustCompile(`\{[^}]*\}`)

// operations keys each operation by method and full path, the server's base
// path included, so "/product" under server "/api" meets "/api/product".
// Parameter names are blanked because renaming one breaks no client.
func operations(doc *openapi3.T) map[string]operation {
	ops := map[string]operation{}
	for path, item := range doc.Paths.Map() {
		servers := doc.Servers
		if len(item.Servers) > 0 {
			servers = item.Servers
		}
		full := pathParam.ReplaceAllString(basePath(servers)+path, "{}")
		for method, op := range item.Operations() {
			ops[method+" "+full] = operation{item: item, op: op}
		}
	}
	return ops
}

// basePath is the path of the first server's URL, without a trailing slash.
func basePath(servers openapi3.Servers) string {
	if len(servers) == 0 {
		return ""
	}
	u, err := url.Parse(servers[0].URL)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(u.Path, "/")
}

func (c *compatChecker) parameters(key string, r, o operation) {
	ours := map[string]*openapi3.Parameter{}
	for _, p := range slices.Concat(o.item.Parameters, o.op.Parameters) {
		ours[paramKey(p.Value)] = p.Value
	}
	// A client must be able to omit what the reference lets it omit.
	refKeys := map[string]bool{}
	for _, p := range slices.Concat(r.item.Parameters, r.op.Parameters) {
		rp := p.Value
		k := paramKey(rp)
		refKeys[k] = true
		op, ok := ours[k]
		if !ok {
			c.addf("%s: parameter %s missing", key, k)
			continue
		}
		if op.Required && !rp.Required {
			c.addf("%s: parameter %s is required but optional in the reference", key, k)
		}
		c.schema(key+" parameter "+k, rp.Schema, op.Schema, request)
	}
	for k, op := range ours {
		if op.Required && !refKeys[k] && op.In != openapi3.ParameterInPath {
			c.addf("%s: parameter %s is required but unknown to the reference", key, k)
		}
	}
}

// paramKey names a parameter by location and name; header names ignore case.
func paramKey(p *openapi3.Parameter) string {
	if p.In == openapi3.ParameterInHeader {
		return p.In + ":" + strings.ToLower(p.Name)
	}
	return p.In + ":" + p.Name
}

// security requires each scheme the reference asks for to be asked for by
// ours too, and to be sent the same way.
func (c *compatChecker) security(key string, r, o *openapi3.Operation) {
	refReqs, ourReqs := c.ref.Security, c.ours.Security
	if r.Security != nil {
		refReqs = *r.Security
	}
	if o.Security != nil {
		ourReqs = *o.Security
	}
	for _, req := range refReqs {
		for name := range req {
			if !slices.ContainsFunc(ourReqs, func(q openapi3.SecurityRequirement) bool { _, ok := q[name]; return ok }) {
				c.addf("%s: security scheme %s not required", key, name)
				continue
			}
			rs, us := c.ref.Components.SecuritySchemes[name], c.ours.Components.SecuritySchemes[name]
			if us == nil {
				c.addf("%s: security scheme %s not declared", key, name)
				continue
			}
			if rs.Value.Type != us.Value.Type || rs.Value.In != us.Value.In || rs.Value.Name != us.Value.Name {
				c.addf("%s: security scheme %s is %s %s %q, reference has %s %s %q", key, name,
					us.Value.Type, us.Value.In, us.Value.Name, rs.Value.Type, rs.Value.In, rs.Value.Name)
			}
		}
	}
}

func (c *compatChecker) requestBody(key string, r, o *openapi3.RequestBodyRef) {
	if r == nil || r.Value == nil {
		return
	}
	if o == nil || o.Value == nil {
		c.addf("%s: request body missing", key)
		return
	}
	for mt, rm := range r.Value.Content {
		om := o.Value.Content.Get(mt)
		if om == nil {
			c.addf("%s: request body %s not accepted", key, mt)
			continue
		}
		// A body is in effect required when its schema has required fields,
		// even where the reference leaves requestBody.required unset.
		if o.Value.Required && !r.Value.Required && (rm.Schema == nil || len(rm.Schema.Value.Required) == 0) {
			c.addf("%s: request body is required but optional in the reference", key)
		}
		c.schema(key+" request body", rm.Schema, om.Schema, request)
	}
}

func (c *compatChecker) responses(key string, r, o *openapi3.Responses) {
	for status, rr := range r.Map() {
		or := o.Value(status)
		if or == nil || or.Value == nil {
			c.addf("%s: response %s missing", key, status)
			continue
		}
		for name := range rr.Value.Headers {
			if or.Value.Headers[name] == nil {
				c.addf("%s: response %s header %s missing", key, status, name)
			}
		}
		for mt, rm := range rr.Value.Content {
			om := or.Value.Content.Get(mt)
			if om == nil {
				c.addf("%s: response %s content %s missing", key, status, mt)
				continue
			}
			c.schema(fmt.Sprintf("%s response %s", key, status), rm.Schema, om.Schema, response)
		}
	}
}

// schema compares one value's schemas and recurses through object properties
// and array items; kin-openapi has already resolved every $ref.
func (c *compatChecker) schema(where string, r, o *openapi3.SchemaRef, dir direction) {
	if r == nil || r.Value == nil {
		return
	}
	if o == nil || o.Value == nil {
		c.addf("%s: schema missing", where)
		return
	}
	rs, us := r.Value, o.Value
	pair := [2]*openapi3.Schema{rs, us}
	// Only the schemas on the way down are remembered: a recursive schema
	// stops there, while a schema shared by two fields is checked, and
	// reported, under both.
	if c.seen[pair] {
		return
	}
	c.seen[pair] = true
	defer delete(c.seen, pair)

	writer, reader := types(rs), types(us)
	if dir == response {
		writer, reader = reader, writer
	}
	if !typesFit(writer, reader) {
		c.addf("%s: type %v, reference has %v", where, types(us), types(rs))
	}

	writerEnum, readerEnum := enum(rs), enum(us)
	if dir == response {
		writerEnum, readerEnum = readerEnum, writerEnum
	}
	// Every value the writer may send must be one the reader knows.
	if len(readerEnum) > 0 {
		if len(writerEnum) == 0 {
			c.addf("%s: values limited to %v on one side only", where, readerEnum)
		}
		for _, v := range writerEnum {
			if !slices.Contains(readerEnum, v) {
				c.addf("%s: value %v not allowed", where, v)
			}
		}
	}

	rprops, rreq := properties(rs)
	oprops, oreq := properties(us)
	for name, rp := range rprops {
		op, ok := oprops[name]
		if !ok {
			c.addf("%s: field %s missing", where, name)
			continue
		}
		c.schema(where+"."+name, rp, op, dir)
	}
	switch dir {
	case request:
		for _, name := range oreq {
			if !slices.Contains(rreq, name) {
				c.addf("%s: field %s is required but optional in the reference", where, name)
			}
		}
		if len(rprops) > 0 && us.AdditionalProperties.Has != nil && !*us.AdditionalProperties.Has {
			c.addf("%s: unknown fields are rejected", where)
		}
	case response:
		for _, name := range rreq {
			if !slices.Contains(oreq, name) {
				c.addf("%s: field %s is required in the reference but optional", where, name)
			}
		}
	}

	if rs.Items != nil {
		if us.Items == nil {
			c.addf("%s: array items missing", where)
		} else {
			c.schema(where+"[]", rs.Items, us.Items, dir)
		}
	}
}

// types lists a schema's types, those of its allOf members included.
// An empty list means any type.
func types(s *openapi3.Schema) []string {
	var out []string
	if s.Type != nil {
		out = append(out, s.Type.Slice()...)
	}
	for _, sub := range s.AllOf {
		if sub.Value != nil && len(out) == 0 {
			out = types(sub.Value)
		}
	}
	return out
}

// typesFit tells whether every value of the writer's types is one of the
// reader's; an integer is a number.
func typesFit(writer, reader []string) bool {
	if len(reader) == 0 {
		return true
	}
	if len(writer) == 0 {
		return false
	}
	for _, t := range writer {
		if slices.Contains(reader, t) || (t == "integer" && slices.Contains(reader, "number")) {
			continue
		}
		return false
	}
	return true
}

// enum is the narrowest value list of a schema and its allOf members.
func enum(s *openapi3.Schema) []any {
	out := s.Enum
	for _, sub := range s.AllOf {
		if sub.Value != nil {
			if e := enum(sub.Value); len(e) > 0 && (len(out) == 0 || len(e) < len(out)) {
				out = e
			}
		}
	}
	return out
}

// properties merges a schema's properties and required names with those of
// its allOf members, which is how our document narrows error codes.
func properties(s *openapi3.Schema) (openapi3.Schemas, []string) {
	props := openapi3.Schemas{}
	required := slices.Clone(s.Required)
	for _, sub := range s.AllOf {
		if sub.Value == nil {
			continue
		}
		p, r := properties(sub.Value)
		for name, v := range p {
			if _, ok := props[name]; !ok || len(v.Value.Type.Slice()) > 0 {
				props[name] = v
			}
		}
		required = append(required, r...)
	}
	for name, v := range s.Properties {
		props[name] = v
	}
	return props, required
}
