package cognito

// Test hooks for the external tests.

// ParseJWKS exposes parseJWKS.
var ParseJWKS = parseJWKS

// SetDeleteBatch sets how many identities one transaction of DeletePool
// deletes, and returns a function that restores it.
func SetDeleteBatch(n int) func() {
	old := deleteBatch
	deleteBatch = n
	return func() { deleteBatch = old }
}
