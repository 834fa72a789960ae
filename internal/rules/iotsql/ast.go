package iotsql

// The abstract syntax tree the parser produces and compile consumes. Every
// node records the byte offset where it starts, for error messages.

// expr is an expression node.
type expr interface{ position() int }

type (
	// identExpr is a field of the current document: the payload, or the row
	// of a nested SELECT.
	identExpr struct {
		pos  int
		name string
	}

	// starExpr is * as a value: the whole payload (or row).
	starExpr struct{ pos int }

	// litExpr is a number, string, boolean or null literal.
	litExpr struct {
		pos  int
		kind tokKind // tNumber, tString (both quote styles), tIdent for true/false/null
		text string  // number text; "true", "false", "null"
		str  string  // string content
	}

	// unaryExpr is -x, +x or NOT x.
	unaryExpr struct {
		pos int
		op  string // "-", "+", "NOT"
		x   expr
	}

	// binaryExpr is x op y for the arithmetic, comparison, logical,
	// concatenation and IN operators.
	binaryExpr struct {
		pos  int
		op   tokKind // operator token; tIdent with word for AND, OR, IN
		word string  // "AND", "OR", "IN"
		x, y expr
	}

	// isExpr is x IS [NOT] NULL or x IS [NOT] UNDEFINED.
	isExpr struct {
		pos       int
		x         expr
		not       bool
		undefined bool // UNDEFINED rather than NULL
	}

	// fieldExpr is x.name.
	fieldExpr struct {
		pos  int
		x    expr
		name string
	}

	// indexExpr is x[i].
	indexExpr struct {
		pos  int
		x, i expr
	}

	// callExpr is a function call; name is lower case.
	callExpr struct {
		pos  int
		name string
		args []expr
	}

	// castExpr is cast(x AS type); typ is as written.
	castExpr struct {
		pos, typPos int
		x           expr
		typ         string
	}

	// caseExpr is CASE [operand] WHEN ... THEN ... [ELSE ...] END.
	caseExpr struct {
		pos     int
		operand expr // nil: each WHEN is a condition
		whens   []whenClause
		els     expr // nil: Undefined
	}

	// objectExpr is {'key': expr, ...} (SQL 2016-03-23).
	objectExpr struct {
		pos  int
		keys []string
		vals []expr
	}

	// arrayExpr is [expr, ...] (SQL 2016-03-23).
	arrayExpr struct {
		pos   int
		elems []expr
	}

	// subSelect is (SELECT ... FROM expr [WHERE ...]) (SQL 2016-03-23).
	subSelect struct {
		pos int
		sel *selectStmt
	}
)

type whenClause struct{ cond, result expr }

func (e *identExpr) position() int  { return e.pos }
func (e *starExpr) position() int   { return e.pos }
func (e *litExpr) position() int    { return e.pos }
func (e *unaryExpr) position() int  { return e.pos }
func (e *binaryExpr) position() int { return e.pos }
func (e *isExpr) position() int     { return e.pos }
func (e *fieldExpr) position() int  { return e.pos }
func (e *indexExpr) position() int  { return e.pos }
func (e *callExpr) position() int   { return e.pos }
func (e *castExpr) position() int   { return e.pos }
func (e *caseExpr) position() int   { return e.pos }
func (e *objectExpr) position() int { return e.pos }
func (e *arrayExpr) position() int  { return e.pos }
func (e *subSelect) position() int  { return e.pos }

// selectStmt is a whole statement, or a nested SELECT.
type selectStmt struct {
	pos   int
	value bool // SELECT VALUE expr
	items []selectItem

	// Top level: the FROM topic filter ("" when there is no FROM, which
	// AWS allows for rules reached only through Basic Ingest).
	topic    string
	topicPos int

	// Nested SELECT: the expression FROM reads.
	from expr

	where expr // nil: always true
}

// selectItem is one item of the SELECT list: * or an expression with an
// optional alias (a dotted alias builds nested objects).
type selectItem struct {
	star     bool
	x        expr
	alias    []string
	aliasPos int
}
