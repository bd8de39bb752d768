// Package auth authenticates callers by api key. Keys are configured once,
// in the auth section, as id:key entries: shop keys (api_keys) for the
// shop's routes and admin keys (admin_keys) for the admin routes, both sent
// in the api_key header. Any module guards its routes with the Required,
// Optional or Admin middleware of the injected *Authenticator and reads the
// caller's Principal from the request context.
package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"

	"minikart/platform/apperr"
	"minikart/platform/config"
)

// Module provides the *Authenticator built from the auth section. The
// keys are secrets: masked when shown; the shop keys are also read from
// API_KEY, the name earlier deployments used.
var Module = fx.Module("auth",
	config.Section[Config]("auth", config.Alias("api_keys", "API_KEY")),
	fx.Provide(New),
)

// Header is the request header that carries the api key. Header names are
// case-insensitive, so Api_key and API_KEY work too.
const Header = "api_key"

// Config is the auth section.
type Config struct {
	// APIKeys are the accepted keys, each "id:key". The id names the
	// caller (in logs, in stored orders, in rate limits) and stays when the
	// key is rotated: list the new key under the same id next to the old
	// one, then drop the old one. A bare "key" gets an id derived from the
	// key itself, which changes with the key. Secret: set them through the
	// environment.
	APIKeys []string `mapstructure:"api_keys" secret:"true"`
	// AdminKeys are the keys of the admin routes (/api/admin), "id:key"
	// entries like APIKeys; the id names the operator in the audit log. None
	// (the default) leaves the admin routes refusing every request. A key
	// is either a shop key or an admin key, never both. Secret: set them
	// through the environment.
	AdminKeys []string `mapstructure:"admin_keys" secret:"true"`
}

// Validate checks every entry; no entry's secret appears in an error.
func (c Config) Validate() error {
	_, _, err := c.parse()
	return err
}

// parse reads both lists and refuses a secret that is in both: its caller
// would be a shop and an operator at once.
func (c Config) parse() (shop, admin []key, err error) {
	shop, errShop := parseKeys("api_keys", c.APIKeys, true)
	admin, errAdmin := parseKeys("admin_keys", c.AdminKeys, false)
	errs := []error{errShop, errAdmin}
	for _, a := range admin {
		for _, s := range shop {
			if a.digest == s.digest {
				errs = append(errs, config.Invalid("admin_keys", "admin key id %q has the same key as api key id %q; an admin key must differ from every shop key", a.id, s.id))
			}
		}
	}
	return shop, admin, errors.Join(errs...)
}

// demoKeys are the keys the project publishes, in the development and
// test configurations and in the documents' examples: anyone can send them.
var demoKeys = []string{"apitest", "admintest", "s3cret", "other", "old", "new"}

// Check refuses, in production, a key the project publishes.
func (c Config) Check(env string) error {
	if env != config.Production {
		return nil
	}
	shop, admin, err := c.parse()
	if err != nil {
		return nil // Validate reports it
	}
	var errs []error
	for _, list := range []struct {
		field, env string
		keys       []key
	}{{"api_keys", "MINIKART_AUTH_API_KEYS (or API_KEY)", shop}, {"admin_keys", "MINIKART_AUTH_ADMIN_KEYS", admin}} {
		for _, k := range list.keys {
			for _, demo := range demoKeys {
				if subtle.ConstantTimeCompare(k.digest[:], digestOf(demo)) == 1 {
					errs = append(errs, config.Invalid(list.field, "key id %q uses %q, a key this project publishes: anyone could call the routes it guards; set your own id:key entries (a long random key each) in %s", k.id, demo, list.env))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func digestOf(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// Principal is an authenticated caller.
type Principal struct {
	// ID is the key id: stable across rotations of an id:key entry.
	ID string
	// Admin is set for an admin key (the Admin middleware); its ID is then
	// an admin key id, a namespace apart from the shop keys' ids.
	Admin bool
}

type principalCtxKey struct{}

// PrincipalFrom returns the caller authenticated by Required or Optional;
// ok is false for an anonymous request.
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalCtxKey{}).(Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p, for code that authenticates by
// other means and for tests.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalCtxKey{}, p)
}

// key is one accepted key: its id and the SHA-256 digest of its secret.
type key struct {
	id     string
	digest [32]byte
}

// Authenticator checks api keys against the configured ones.
type Authenticator struct {
	keys  []key
	admin []key
}

// New returns an authenticator for the configured keys.
func New(c Config) (*Authenticator, error) {
	keys, admin, err := c.parse()
	if err != nil {
		return nil, err
	}
	return &Authenticator{keys: keys, admin: admin}, nil
}

// Required lets a request through only with a valid key: 401 UNAUTHORIZED
// without one, 403 FORBIDDEN with a wrong one.
func (a *Authenticator) Required() gin.HandlerFunc { return a.middleware(true) }

// Optional lets a request without a key through as anonymous (no Principal
// in its context); a wrong key still gets 403 FORBIDDEN.
func (a *Authenticator) Optional() gin.HandlerFunc { return a.middleware(false) }

func (a *Authenticator) middleware(required bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		got := c.GetHeader(Header)
		if got == "" {
			if required {
				_ = c.Error(apperr.ErrUnauthorized)
				c.Abort()
				return
			}
			c.Next()
			return
		}
		p, ok := a.Authenticate(got)
		if !ok {
			_ = c.Error(apperr.ErrForbidden)
			c.Abort()
			return
		}
		c.Request = c.Request.WithContext(WithPrincipal(c.Request.Context(), p))
		c.Next()
	}
}

// Admin lets a request through only with an admin key: 401 UNAUTHORIZED
// without a key or with one the server does not know, 403 FORBIDDEN with a
// shop key (known, but not for these routes). The Principal has Admin set.
func (a *Authenticator) Admin() gin.HandlerFunc {
	return func(c *gin.Context) {
		got := c.GetHeader(Header)
		if got == "" {
			_ = c.Error(apperr.ErrUnauthorized)
			c.Abort()
			return
		}
		// Both lists are compared every time, so timing does not tell a
		// shop key from an unknown one.
		d := sha256.Sum256([]byte(got))
		admin, adminOK := match(a.admin, d)
		_, shopOK := match(a.keys, d)
		switch {
		case adminOK:
			c.Request = c.Request.WithContext(WithPrincipal(c.Request.Context(), Principal{ID: admin, Admin: true}))
			c.Next()
		case shopOK:
			_ = c.Error(apperr.ErrForbidden.Withf("a shop key is not accepted here; use an admin key"))
			c.Abort()
		default:
			_ = c.Error(apperr.ErrUnauthorized.Withf("api key not recognised"))
			c.Abort()
		}
	}
}

// Authenticate returns the principal whose shop key is secret.
func (a *Authenticator) Authenticate(secret string) (Principal, bool) {
	id, ok := match(a.keys, sha256.Sum256([]byte(secret)))
	return Principal{ID: id}, ok
}

// match returns the id of the key whose digest is d. Keys are compared as
// SHA-256 digests in constant time, every key each time, so neither the
// content nor the length of a key, nor which one matched, leaks through
// timing.
func match(keys []key, d [32]byte) (string, bool) {
	hit, at := 0, 0
	for i := range keys {
		eq := subtle.ConstantTimeCompare(d[:], keys[i].digest[:])
		at = subtle.ConstantTimeSelect(eq, i, at)
		hit |= eq
	}
	if hit != 1 {
		return "", false
	}
	return keys[at].id, true
}

// idPattern is the form of an explicit key id. It cannot contain ':', so
// the first ':' of an entry ends the id, and no explicit id can equal a
// derived one (which starts with "fp:").
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// parseKeys parses the id:key entries of the key list name. Blank entries
// are skipped (an unset variable expands to one); with required, at least
// one key is. One secret under two ids is refused, since it would make the
// caller ambiguous; one id with several secrets is how a key is rotated.
func parseKeys(name string, entries []string, required bool) ([]key, error) {
	var errs []error
	var keys []key
	owner := map[[32]byte]string{}
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		field := fmt.Sprintf("%s[%d]", name, i)
		id, secret, hasID := strings.Cut(e, ":")
		if !hasID {
			var err error
			if id, err = derivedID(e); err != nil {
				errs = append(errs, config.Invalid(field, "derive an id: %v", err))
				continue
			}
			secret = e
		}
		id, secret = strings.TrimSpace(id), strings.TrimSpace(secret)
		switch {
		case hasID && !idPattern.MatchString(id):
			errs = append(errs, config.Invalid(field, "the id before ':' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"))
			continue
		case secret == "":
			errs = append(errs, config.Invalid(field, "the key after %q is empty", id+":"))
			continue
		}
		d := sha256.Sum256([]byte(secret))
		if prev, dup := owner[d]; dup && prev != id {
			errs = append(errs, config.Invalid(field, "the same key is listed under ids %q and %q", prev, id))
			continue
		}
		owner[d] = id
		keys = append(keys, key{id: id, digest: d})
	}
	if required && len(keys) == 0 && len(errs) == 0 {
		errs = append(errs, config.Invalid("api_keys", "at least one api key is required (set MINIKART_AUTH_API_KEYS or API_KEY, as id:key entries)"))
	}
	return keys, errors.Join(errs...)
}

// derivedID names a key given without an id: "fp:" and a fingerprint of
// the key, stretched with PBKDF2 so that the id, which is stored and
// logged, does not make a weak key cheap to guess. It changes when the key
// does: give keys as id:key for ids that survive a rotation.
func derivedID(secret string) (string, error) {
	fp, err := pbkdf2.Key(sha256.New, secret, []byte("minikart api key id"), 4096, 8)
	if err != nil {
		return "", err
	}
	return "fp:" + hex.EncodeToString(fp), nil
}
