"""Request and response shapes of scheduling (docs/api-contract.md), one module per area as in views/;
import from the module that holds a shape: this package file re-exports nothing."""
