//go:build !linux

package caddydjango

import "time"

// treeRSS is not available outside Linux (no /proc): the resident memory
// metric is left out.
func treeRSS(int) (int64, bool) { return 0, false }

// procTable: no /proc outside Linux, so no process table; the memory guard
// (max_memory) does not run there.
type procTable struct{}

func readProcTable() procTable                        { return procTable{} }
func (procTable) treeRSS(int) (int64, bool)           { return 0, false }
func (procTable) rss(int) int64                       { return 0 }
func (procTable) started(int) time.Time               { return time.Time{} }
func (procTable) serverProcs(leader int) (int, []int) { return leader, nil }
func (procTable) groupMembersOf(int) []int            { return nil }
func memberAlive(int, int) bool                       { return false }
func groupOf(int) int                                 { return 0 }
