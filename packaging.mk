# Installed layout (docs/deployment.md): the binary in $(bindir), ragbatch(1)
# in $(mandir), the sample jobs and what they include in
# $(sysconfdir)/ragbatch/{jobs,conf}, the model and the deployment files in
# $(pkgdatadir), the documentation in $(docdir).  The jobs' relative paths
# (../conf/...) hold once installed; conf/defaults.conf, the one file naming
# the model, is installed with the installed model's absolute path.

# ragbatch(1), from the binary's own help (scripts/gen-man.sh).
man_MANS = ragbatch.1
CLEANFILES += ragbatch.1
ragbatch.1: ragbatch$(EXEEXT) $(srcdir)/scripts/gen-man.sh
	$(AM_V_GEN)$(SHELL) $(srcdir)/scripts/gen-man.sh ./ragbatch$(EXEEXT) \
		'$(sysconfdir)' '$(pkgdatadir)' >$@.tmp && mv -f $@.tmp $@

ragbatchjobsdir = $(sysconfdir)/ragbatch/jobs
dist_ragbatchjobs_DATA = jobs/product-updates.job jobs/products-cdc.job
ragbatchconfdir = $(sysconfdir)/ragbatch/conf
dist_ragbatchconf_DATA = conf/product_schema.json conf/cdc_product_schema.json \
	conf/datagen-product-updates.json conf/datagen-product.avsc
promdir = $(pkgdatadir)/deploy/prometheus
dist_prom_DATA = deploy/prometheus/ragbatch-alerts.yml deploy/prometheus/ragbatch-alerts.test.yml
grafanadir = $(pkgdatadir)/deploy/grafana
dist_grafana_DATA = deploy/grafana/ragbatch-dashboard.json
k8sdir = $(pkgdatadir)/deploy
dist_k8s_DATA = spark-job.yaml deploy/README.md
dist_doc_DATA = README.md LICENSE docs/architecture.md docs/deployment.md docs/search.md \
	docs/test-servers.md

# bash completion, where bash-completion looks for it on first use
# ($XDG_DATA_DIRS/bash-completion/completions/<command>).
bashcompletiondir = $(datadir)/bash-completion/completions

installed_model = $(pkgdatadir)/models/all-MiniLM-L6-v2
# `make install install_model=no` installs everything but the model (the
# container image copies it in a stage of its own); defaults.conf still
# names the installed model's place.
install_model = yes
install-data-local:
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/completion/ragbatch.bash '$(DESTDIR)$(bashcompletiondir)/ragbatch'
	$(MKDIR_P) '$(DESTDIR)$(ragbatchconfdir)'
	sed -e 's|^embed\.model\.dir = .*|embed.model.dir = $(installed_model)|' \
		$(srcdir)/conf/defaults.conf >'$(DESTDIR)$(ragbatchconfdir)/defaults.conf'
	grep -qx 'embed\.model\.dir = $(installed_model)' '$(DESTDIR)$(ragbatchconfdir)/defaults.conf'
	@if test '$(install_model)' = no; then \
		echo " not installing the model (install_model=no)"; \
	elif test -f '$(RB_MODEL_DIR)/config.json'; then \
		echo " installing the model $(RB_MODEL_DIR) as $(installed_model)"; \
		$(MKDIR_P) '$(DESTDIR)$(installed_model)' && \
		cp -R '$(RB_MODEL_DIR)/.' '$(DESTDIR)$(installed_model)/' && \
		chmod -R u+w,a+rX '$(DESTDIR)$(installed_model)'; \
	else \
		echo "make install: no model at $(RB_MODEL_DIR): run scripts/fetch-model.sh" \
			"(or configure --with-model=DIR), then make install again" >&2; \
	fi
uninstall-local:
	rm -f '$(DESTDIR)$(bashcompletiondir)/ragbatch'
	rm -f '$(DESTDIR)$(ragbatchconfdir)/defaults.conf'
	rm -rf '$(DESTDIR)$(installed_model)'
	-rmdir '$(DESTDIR)$(pkgdatadir)/models' 2>/dev/null

# After `make install` (and in distcheck): the installed sample job checks,
# names the installed schema and model, and the model embeds; the man page
# renders without warnings; the installed completion completes.
installcheck-local:
	$(SHELL) $(srcdir)/scripts/installcheck.sh '$(DESTDIR)$(bindir)/ragbatch$(EXEEXT)' \
		'$(DESTDIR)$(ragbatchjobsdir)/product-updates.job' '$(DESTDIR)$(man1dir)/ragbatch.1' \
		'$(ragbatchconfdir)' '$(installed_model)' '$(DESTDIR)$(bashcompletiondir)/ragbatch'

# What a release tarball carries beyond the sources: everything the suite,
# the scripts, the container build and the documentation need (not the
# model: configure --with-model or scripts/fetch-model.sh provide it).
# A directory in EXTRA_DIST is taken from the build directory when one of
# that name exists there, and the build tree has a bench/ of objects: the
# benchmarks' scripts, notes and results are copied from the source tree by
# dist-hook instead (their C sources are distributed as program sources).
EXTRA_DIST += jobs conf completion scripts docs deploy tests/data tests/java tests/fuzz/corpus \
	Dockerfile .dockerignore .clang-format
dist-hook:
	$(SHELL) $(srcdir)/scripts/git-commit.sh $(srcdir) >'$(distdir)/.commit'
	excl=; for p in $(noinst_PROGRAMS); do excl="$$excl --exclude=$$p"; done; \
	(cd $(srcdir) && tar -cf - --exclude='*.o' --exclude=.deps --exclude=.dirstamp $$excl bench) | \
		(cd '$(distdir)' && tar -xf -)
	find '$(distdir)' \( -name __pycache__ -o -name '*.pyc' -o -name target \) -prune \
		-exec rm -rf {} +

# distcheck builds and tests the tarball with this tree's model.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-model='$(RB_MODEL_DIR)'
