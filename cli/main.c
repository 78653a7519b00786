/*
 * main.c - the scanvault command: dispatches to one subcommand.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
#define SV_CLI_ENTRY(name, fn, summary) {name, fn, summary},
    SV_COMMANDS(SV_CLI_ENTRY)
#undef SV_CLI_ENTRY
};

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("scanvault: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void print_usage(FILE *to)
{
    fputs("usage: scanvault COMMAND [OPTIONS] [ARGS]\n\n"
          "scanvault reads scanned medical documents, finds the patient's MRN and\n"
          "the document type, and holds for review whatever it is not sure of.\n"
          "Commands:\n\n",
          to);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\n'scanvault COMMAND --help' describes one command.\n"
          "Exit status: 0 done; 1 done, but some input could not be processed;\n"
          "2 usage error; 3 environment error (configuration, key, OCR data).\n",
          to);
}

/*
 * Tesseract's OpenMP runtime reads OMP_THREAD_LIMIT once, when the library is
 * loaded, before main. Several single-threaded engines (one per worker) are
 * much faster on our cores than engines that each start a thread team, so
 * the command re-executes itself once with the limit set, unless the caller
 * chose a value.
 */
static void limit_openmp_threads(char **argv)
{
    if (getenv("OMP_THREAD_LIMIT") != NULL)
        return;
    if (setenv("OMP_THREAD_LIMIT", "1", 0) != 0)
        return;
    execv("/proc/self/exe", argv);
    /* No /proc: go on with OpenMP's default threading (slower, still right). */
}

int main(int argc, char **argv)
{
    limit_openmp_threads(argv);
    if (argc < 2) {
        print_usage(stderr);
        return SV_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_usage(stdout);
        return SV_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("scanvault 0.1.0");
        return SV_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    }
    cli_error("unknown command '%s'; 'scanvault --help' lists the commands", argv[1]);
    return SV_EXIT_USAGE;
}
