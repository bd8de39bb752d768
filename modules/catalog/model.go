package catalog

import "minikart/platform/money"

// Product is one item of the catalogue, in the contract's shape.
type Product struct {
	ID       string      `json:"id"`
	Name     string      `json:"name"`
	Price    money.Cents `json:"price"`
	Category string      `json:"category"`
	Image    Image       `json:"image"`
}

// Image holds the product picture in the four sizes front ends use.
type Image struct {
	Thumbnail string `json:"thumbnail"`
	Mobile    string `json:"mobile"`
	Tablet    string `json:"tablet"`
	Desktop   string `json:"desktop"`
}
