package policy

import "testing"

// FuzzParseModes: Parse never panics in any mode; what it accepts
// compiles and evaluates, with and without a caller. Seeds:
// testdata/fuzz/FuzzParseModes (trust and identity documents).
func FuzzParseModes(f *testing.F) {
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["000000000000","arn:aws:sts::000000000000:assumed-role/r/s"]},"Action":"sts:AssumeRole"}]}`), uint8(ModeTrust))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::000000000000:user/${aws:username}"}]}`), uint8(ModeIdentity))
	vars := &Vars{SourceIP: "192.0.2.1"}
	vars.Set("aws:username", "alice")
	vars.Set("cognito-identity.amazonaws.com:amr", "authenticated")
	callers := []*Caller{nil,
		{Type: PrincipalAWS, ID: "arn:aws:iam::000000000000:user/alice"},
		{Type: PrincipalAWS, ID: "arn:aws:sts::000000000000:assumed-role/r/s"},
		{Type: PrincipalFederated, ID: "cognito-identity.amazonaws.com"},
		{Type: PrincipalService, ID: "credentials.iot.amazonaws.com"},
	}
	f.Fuzz(func(t *testing.T, doc []byte, mode uint8) {
		m := Mode(mode % 3)
		d, err := ParseOptions{Mode: m, MaxSize: 10240}.Parse(doc)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("non-SyntaxError %T: %v", err, err)
			}
			return
		}
		for _, st := range d.Statements {
			if (st.Principal != nil) != (m == ModeTrust) {
				t.Fatalf("mode %s accepted a statement with Principal %v", m, st.Principal)
			}
		}
		c, err := Compile("f", "1", d)
		if err != nil {
			t.Fatalf("accepted document does not compile: %v", err)
		}
		for _, caller := range callers {
			for _, a := range []string{"sts:AssumeRole", "iam:GetUser", "sts:AssumeRoleWithWebIdentity"} {
				Evaluate([]*Compiled{c}, &Request{Action: a, Resource: "arn:aws:iam::000000000000:user/alice", Vars: vars, Caller: caller, Explain: true})
			}
		}
	})
}
