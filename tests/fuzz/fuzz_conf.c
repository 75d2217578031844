/* libFuzzer harness for the jail.conf(5) parser: load, merge, substitute and print with -e.
 * Any input must give either a clean error or a result; never a crash or a leak. */
#include "conf/conf.h"
#include "param/param.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("LJAIL_CONF_NO_INCLUDE", "1", 1); /* never read the machine's files */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jc_conf c;
	lj_err e;
	if (jc_load_string(&c, "fuzz.conf", (const char *)data, size, &e) < 0)
		return 0;
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		jc_print_e(null, &c, "|");
		fclose(null);
	}
	for (size_t i = 0; i < c.njails; i++)
		(void)lj_param_check_jail(&c.jails[i], &e);
	jc_free(&c);
	return 0;
}
