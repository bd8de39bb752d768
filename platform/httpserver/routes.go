package httpserver

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
	"go.uber.org/fx"
)

// Routes is implemented by each module's HTTP handler. Register maps the
// module's routes of API version 1, relative to the API base path; the
// server calls it once for APIPath (the public contract's paths) and once
// for VersionPath(1), so every route answers under both alike. Register only
// maps routes: it may be called more than once.
type Routes interface{ Register(r gin.IRouter) }

// LaterVersions is implemented, beside Routes, by a handler that changes an
// operation incompatibly. RegisterLater maps the changed operations of each
// later version on version(n), the router of VersionPath(n) for n ≥ 2;
// Register keeps mapping version 1 unchanged, under APIPath and
// VersionPath(1).
type LaterVersions interface {
	RegisterLater(version func(n int) gin.IRouter)
}

// AsRoutes annotates a constructor so its result joins the "routes" group,
// mounted under APIPath and VersionPath(1).
func AsRoutes(ctor any) any {
	return fx.Annotate(ctor, fx.As(new(Routes)), fx.ResultTags(`group:"routes"`))
}

// AsRootRoutes annotates a constructor so its result joins the "root_routes"
// group, mounted at / (health, metrics, documentation).
func AsRootRoutes(ctor any) any {
	return fx.Annotate(ctor, fx.As(new(Routes)), fx.ResultTags(`group:"root_routes"`))
}

// VersionPath is the base path of API version n: /api/v1 serves the same
// operations as APIPath; /api/v2 and later serve what a module changed
// incompatibly (LaterVersions).
func VersionPath(n int) string { return APIPath + "/v" + strconv.Itoa(n) }

// mounting is one Routes to register, and the package that owns it.
type mounting struct {
	owner string
	apply func(e *gin.Engine) error
}

// refused is gin's panic at a route it cannot add, as an error.
type refused struct{ reason any }

func (r refused) Error() string { return fmt.Sprint(r.reason) }

// run registers m on e and turns gin's panic at a route it cannot add
// into a refused error.
func (m mounting) run(e *gin.Engine) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = refused{v}
		}
	}()
	return m.apply(e)
}

// mountRoutes registers the root routes at / and each module's routes
// under APIPath, VersionPath(1) and its later versions. A route gin cannot
// add beside another (the same method and path twice, or a path parameter
// named differently at the same place) fails with an error naming both
// routes and the packages that registered them, instead of gin's panic.
func mountRoutes(e *gin.Engine, root, api []Routes) error {
	mountings := make([]mounting, 0, len(root)+len(api))
	for _, r := range root {
		mountings = append(mountings, mounting{owner: ownerOf(r), apply: func(e *gin.Engine) error {
			r.Register(e)
			return nil
		}})
	}
	// The group's order is random; the modules' are mounted in the order of
	// their packages, so a clash is reported alike at every start.
	api = slices.SortedStableFunc(slices.Values(api), func(a, b Routes) int { return cmp.Compare(ownerOf(a), ownerOf(b)) })
	for _, r := range api {
		mountings = append(mountings, mounting{owner: ownerOf(r), apply: func(e *gin.Engine) error {
			return mountAPI(e, r)
		}})
	}
	for i, m := range mountings {
		if err := m.run(e); err != nil {
			return explainClash(mountings, i, err)
		}
	}
	return nil
}

// mountAPI registers r's version 1 under APIPath and VersionPath(1), and
// its later versions where it has them.
func mountAPI(e *gin.Engine, r Routes) error {
	r.Register(e.Group(APIPath))
	r.Register(e.Group(VersionPath(1)))
	later, ok := r.(LaterVersions)
	if !ok {
		return nil
	}
	var errs []error
	later.RegisterLater(func(n int) gin.IRouter {
		if n < 2 {
			errs = append(errs, fmt.Errorf("routes of %s: API version %d: later versions are 2 and up; Register maps version 1", ownerOf(r), n))
			return gin.New() // mapped nowhere
		}
		return e.Group(VersionPath(n))
	})
	return errors.Join(errs...)
}

// ownedRoute is a route and the package that registered it.
type ownedRoute struct{ method, path, owner string }

func (r ownedRoute) String() string { return r.method + " " + r.path + " (" + r.owner + ")" }

// explainClash finds the two routes behind failed's error: each mounting
// is registered alone, then its routes are added one at a time beside the
// routes before them; the first that gin refuses is compared with each of
// those, one pair at a time.
func explainClash(mountings []mounting, failed int, cause error) error {
	if !errors.As(cause, new(refused)) {
		return cause
	}
	all := gin.New()
	var added []ownedRoute
	for _, m := range mountings[:failed+1] {
		alone := gin.New()
		if err := m.run(alone); err != nil {
			return fmt.Errorf("routes of %s clash with each other: %w", m.owner, err)
		}
		// Shortest first, so the clash is reported under APIPath rather than
		// a version path.
		routes := alone.Routes()
		slices.SortStableFunc(routes, func(a, b gin.RouteInfo) int {
			return cmp.Or(cmp.Compare(len(a.Path), len(b.Path)), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method))
		})
		for _, ri := range routes {
			r := ownedRoute{method: ri.Method, path: ri.Path, owner: m.owner}
			err := addRoute(all, r)
			if err == nil {
				added = append(added, r)
				continue
			}
			for _, prev := range added {
				pair := gin.New()
				if addRoute(pair, prev) == nil && addRoute(pair, r) != nil {
					return fmt.Errorf("route %s clashes with route %s: %w; routes that share the path before a parameter must give it one name (docs/adding-a-module.md, Route parameters)", r, prev, err)
				}
			}
			return fmt.Errorf("route %s: %w", r, err)
		}
	}
	return fmt.Errorf("routes of %s: %w", mountings[failed].owner, cause)
}

// addRoute adds r to e with a handler that is never called, reporting
// gin's refusal as an error.
func addRoute(e *gin.Engine, r ownedRoute) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = refused{v}
		}
	}()
	e.Handle(r.method, r.path, func(*gin.Context) {})
	return nil
}

// ownerOf names the package of the type that registers r, such as
// minikart/modules/catalog.
func ownerOf(r Routes) string {
	t := reflect.TypeOf(r)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "" {
		return t.String()
	}
	return t.PkgPath()
}
