package auth_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/fx"

	"minikart/platform/auth"
	"minikart/platform/config"
)

func TestKeysFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		ids  map[string]string // key → id it authenticates as
	}{
		{"MINIKART_AUTH_API_KEYS, id:key entries", map[string]string{"MINIKART_AUTH_API_KEYS": "shop-web:s3cret,pos:other"},
			map[string]string{"s3cret": "shop-web", "other": "pos"}},
		{"the API_KEY alias", map[string]string{"API_KEY": "shop-web:s3cret"}, map[string]string{"s3cret": "shop-web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			// The graph, as the server builds it: the alias is declared by
			// the auth module.
			src, err := config.Load(config.Options{Env: config.Production})
			if err != nil {
				t.Fatal(err)
			}
			var a *auth.Authenticator
			if err := fx.New(fx.NopLogger, fx.Supply(src), config.Module, auth.Module, fx.Populate(&a)).Err(); err != nil {
				t.Fatal(err)
			}
			for key, id := range tt.ids {
				if p, ok := a.Authenticate(key); !ok || p.ID != id {
					t.Errorf("%s: %+v %v, want id %s", key, p, ok, id)
				}
			}
		})
	}
}

func TestProductionWithoutKeysIsRefused(t *testing.T) {
	_, err := config.DecodeSection[auth.Config](config.Production, "auth", nil)
	if err == nil || !strings.Contains(err.Error(), "auth.api_keys: at least one api key is required") {
		t.Errorf("err = %v", err)
	}
}

func TestProductionRefusesThePublishedKeys(t *testing.T) {
	tests := []struct {
		env    string
		keys   []string
		refuse []string // the published keys named
	}{
		{config.Production, []string{"shop-web:apitest"}, []string{"apitest"}},
		{config.Production, []string{"shop-web:s3cret", " apitest ", "pos:other"}, []string{"s3cret", "apitest", "other"}},
		{config.Production, []string{"shop-web:a-long-random-secret"}, nil},
		{config.Development, []string{"demo:apitest"}, nil},
		{config.Test, []string{"apitest"}, nil},
	}
	for _, tt := range tests {
		err := auth.Config{APIKeys: tt.keys}.Check(tt.env)
		var got []string
		for _, e := range unjoin(err) {
			var fe *config.FieldError
			if !errors.As(e, &fe) || fe.Warning || fe.Key != "api_keys" || !strings.Contains(fe.Msg, "MINIKART_AUTH_API_KEYS") {
				t.Errorf("%s %v: %v, want an error about api_keys naming MINIKART_AUTH_API_KEYS", tt.env, tt.keys, e)
				continue
			}
			got = append(got, fe.Msg)
		}
		if len(got) != len(tt.refuse) {
			t.Errorf("%s %v: %q, want %d refusals", tt.env, tt.keys, got, len(tt.refuse))
			continue
		}
		for i, demo := range tt.refuse {
			if !strings.Contains(got[i], `uses "`+demo+`"`) {
				t.Errorf("%s %v: %q, want it to name %q", tt.env, tt.keys, got[i], demo)
			}
		}
	}
}

// TestProductionRefusesTheKeysTheConfigsShip: every key the development and
// test configurations hold is refused in production.
func TestProductionRefusesTheKeysTheConfigsShip(t *testing.T) {
	for _, env := range []string{config.Development, config.Test} {
		c, err := config.DecodeSection[auth.Config](env, "auth", nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.APIKeys) == 0 || len(c.AdminKeys) == 0 {
			t.Fatalf("%s ships no api key or no admin key; this test reads them", env)
		}
		for _, k := range c.APIKeys {
			if err := (auth.Config{APIKeys: []string{k}}).Check(config.Production); err == nil {
				t.Errorf("production accepts %s's api key %q", env, k)
			}
		}
		for _, k := range c.AdminKeys {
			if err := (auth.Config{APIKeys: []string{"shop:a-long-random-secret"}, AdminKeys: []string{k}}).Check(config.Production); err == nil {
				t.Errorf("production accepts %s's admin key %q", env, k)
			}
		}
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
