# version: the release, commit, library versions and embedding kernel of
# this binary (`ragbatch --version`).  The commit header is written at every
# build and replaced only when the commit changed, so an unchanged commit
# rebuilds nothing.
libragbatch_a_SOURCES += src/version/version.c src/version/version.h
BUILT_SOURCES += ragbatch_commit.h
CLEANFILES += ragbatch_commit.h
ragbatch_commit.h: FORCE
	$(AM_V_GEN)printf '#define RB_GIT_COMMIT "%s"\n' \
		"$$($(SHELL) $(srcdir)/scripts/git-commit.sh $(srcdir))" >$@.tmp && \
	if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi
FORCE:
.PHONY: FORCE

# --version against the libraries themselves (runs the binary).
check_PROGRAMS += tests/check_version
TESTS += tests/check_version
tests_check_version_SOURCES = tests/check_version.c tests/spawn.c tests/spawn.h
tests_check_version_CFLAGS = $(TEST_CFLAGS)
tests_check_version_LDADD = $(TEST_LIBS)
EXTRA_tests_check_version_DEPENDENCIES = ragbatch$(EXEEXT)
