// Package modules lists the business modules of Mini-Kart. Adding a module
// is one line here; nothing in platform/ or in other modules changes.
package modules

import (
	"go.uber.org/fx"

	"minikart/modules/catalog"
	"minikart/modules/ordering"
	"minikart/modules/promo"
)

// All is every business module, in any order: they meet only through the
// interfaces each consumer declares.
var All = fx.Options(
	catalog.Module,
	ordering.Module,
	promo.Module,
)
