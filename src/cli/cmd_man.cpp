// The hidden `__man` command: prints depctl(1) in roff from the same CLI11 tree that
// --help comes from, so the man page lists exactly the commands, flags and examples of
// this build. CMake runs it after building depctl (cmake/packaging.cmake).
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "help.hpp"

#ifndef DEPCTL_VERSION
#define DEPCTL_VERSION "0.0.0"
#endif

namespace depctl::cli {
namespace {

// Text safe for roff: backslashes escaped, hyphens as \-, no line starting with a control
// character.
std::string roff(const std::string& text) {
    std::string out;
    bool line_start = true;
    for (char c : text) {
        if (line_start && (c == '.' || c == '\'')) out += "\\&";
        if (c == '\\')
            out += "\\e";
        else if (c == '-')
            out += "\\-";
        else
            out += c;
        line_start = c == '\n';
    }
    return out;
}

std::string option_term(const CLI::Option& opt) {
    std::string names;
    for (const auto& s : opt.get_snames())
        names += (names.empty() ? "" : ", ") + ("\\fB" + roff("-" + s) + "\\fR");
    for (const auto& l : opt.get_lnames())
        names += (names.empty() ? "" : ", ") + ("\\fB" + roff("--" + l) + "\\fR");
    if (!opt.nonpositional()) names = "\\fI" + roff(opt.get_name()) + "\\fR";
    if (opt.get_type_size() != 0 && opt.nonpositional())
        names += " \\fI" + roff(opt.get_type_name()) + "\\fR";
    return names;
}

std::string describe(const CLI::Option& opt) {
    std::string text = opt.get_description();
    if (!text.empty() && text.back() != '.' && text.back() != ')') text += ".";
    if (!text.empty() && text.back() == ')') text += ".";
    if (opt.get_required()) text += " Required.";
    if (!opt.get_default_str().empty()) text += " Default: " + opt.get_default_str() + ".";
    return roff(text);
}

std::string options_block(const std::vector<const CLI::Option*>& options) {
    std::string out;
    for (const CLI::Option* opt : options)
        out += ".TP\n" + option_term(*opt) + "\n" + describe(*opt) + "\n";
    return out;
}

std::string synopsis(const CLI::App& app) {
    std::string out = "\\fB" + roff(command_path(app)) + "\\fR";
    for (const CLI::Option* p : visible_options(app, true)) {
        const std::string name = "\\fI" + roff(p->get_name()) + "\\fR";
        out += " " + (p->get_required() ? name : "[" + name + "]");
    }
    if (!visible_options(app, false).empty()) out += " [\\fIOPTIONS\\fR]";
    if (!visible_subcommands(app).empty()) out += " \\fICOMMAND\\fR";
    return out;
}

// The examples set with set_examples(): the footer after its "Examples:" line.
std::string examples(const CLI::App& app) {
    const std::string footer = app.get_footer();
    const auto at = footer.find("Examples:\n");
    if (at == std::string::npos) return {};
    std::string text = footer.substr(at + 10);
    text = text.substr(0, text.find("\n\n"));  // what follows a blank line is not an example
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
}

std::string command_section(const CLI::App& app) {
    std::ostringstream out;
    out << ".SS \"" << roff(command_path(app)) << "\"\n"
        << synopsis(app) << "\n.PP\n"
        << roff(app.get_description()) << "\n";
    if (app.get_aliases().size() > 0) {
        std::string aliases;
        for (const auto& alias : app.get_aliases())
            aliases += (aliases.empty() ? "" : ", ") + alias;
        out << "Alias: " << roff(aliases) << ".\n";
    }
    const auto subs = visible_subcommands(app);
    if (!subs.empty()) {
        out << ".PP\nCommands:\n";
        for (const CLI::App* sub : subs) {
            out << ".TP\n\\fB" << roff(sub->get_name()) << "\\fR\n"
                << roff(sub->get_description()) << "\n";
        }
    }
    const auto positionals = visible_options(app, true);
    const auto flags = visible_options(app, false);
    if (!positionals.empty() || !flags.empty())
        out << ".PP\nArguments and options:\n"
            << options_block(positionals) << options_block(flags);
    const std::string ex = examples(app);
    if (!ex.empty()) out << ".PP\nExamples:\n.PP\n.RS 4\n.nf\n" << roff(ex) << "\n.fi\n.RE\n";
    return out.str();
}

const char* const k_environment = R"(.TP
\fBDEPCTL_STATE\fR
State file path or etcd URL, as \fB\-\-state\fR.
.TP
\fBDEPCTL_ENVIRONMENT\fR
Environment to work on when \fB\-e\fR is not given; else the one saved with \fBdepctl context set\fR.
.TP
\fBDEPCTL_VERSION\fR
Version to deploy when \fB\-\-version\fR is not given; else \fBgit rev\-parse HEAD\fR of the project directory.
.TP
\fBNO_COLOR\fR
When set (to anything), no colour, as \fB\-\-no\-color\fR.
.TP
\fBCI\fR
When set, deployments are recorded with the trigger \fBci\fR instead of \fBcli\fR.
.TP
\fBXDG_CONFIG_HOME\fR
The per\-user context lives in \fI$XDG_CONFIG_HOME/depctl/context.json\fR (default \fI~/.config\fR).
.PP
Steps run with \fBDEPCTL_PROJECT\fR, \fBDEPCTL_ENVIRONMENT\fR, \fBDEPCTL_SERVICE\fR, \fBDEPCTL_STAGE\fR,
\fBDEPCTL_VERSION\fR and \fBDEPCTL_DEPLOYMENT_ID\fR set, plus the service's \fB\-\-env\fR variables and
(except builds) its secrets.
)";

const char* const k_files = R"(.TP
\fI.depctl/state.json\fR
The project's state, found by walking up from the current directory (like git).
.TP
\fI.depctl/history/ENV_ID.jsonl\fR
Deployment history, one JSON record per line, append\-only.
.TP
\fI.depctl/logs/DEPLOYMENT_ID/SERVICE.STEP.log\fR
The output of every step.
)";

const char* const k_exit_status = R"(.TP
\fB0\fR
Success.
.TP
\fB1\fR
A deployment or stop ran and failed.
.TP
\fB2\fR
Usage: unknown command or flag, missing argument.
.TP
\fB3\fR
Refused input: not found, duplicate, invalid name, non\-empty stage, cycle.
.TP
\fB4\fR
Busy: the state or the environment is locked by another process.
.TP
\fB5\fR
Policy: enforced deployment order or approval not satisfied.
.TP
\fB6\fR
State store error: unreadable or corrupt state, I/O, etcd unreachable.
.TP
\fB130\fR
Cancelled.
)";

std::string man_page(const CLI::App& root) {
    std::ostringstream out;
    out << ".\\\" Generated by `depctl __man` from the command tree that --help uses; do not "
           "edit.\n"
        << ".TH DEPCTL 1 \"\" \"depctl " DEPCTL_VERSION "\" \"User Commands\"\n"
        << ".nh\n.ad l\n"  // no hyphenation, no justification: flags and paths stay whole
        << ".SH NAME\ndepctl \\- "
        << roff(root.get_description().substr(root.get_description().find(": ") + 2)) << "\n"
        << ".SH SYNOPSIS\n\\fBdepctl\\fR [\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR "
           "[\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n"
        << ".SH DESCRIPTION\n"
        << "depctl deploys an environment the way Qovery's deployment pipeline does: the services "
           "of an\n"
           "environment are grouped into ordered stages; a deploy runs stage after stage, the "
           "services of a\n"
           "stage in parallel, and builds ahead of time. Everything depctl knows lives in a state "
           "file\n"
           "(\\fI.depctl/state.json\\fR) or in etcd, and every deployment is recorded.\n"
        << ".PP\nEvery command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR. Results go to standard "
           "output, errors to\n"
           "standard error as \\fBerror:\\fR lines, often with a \\fBhint:\\fR line.\n"
        << ".SH GLOBAL OPTIONS\nThese go before or after the command.\n"
        << options_block(visible_options(root, false))
        << ".TP\n\\fB\\-\\-version\\fR\nPrint the version and git commit.\n"
        << ".SH COMMANDS\n";
    const auto commands = all_commands(root);
    for (std::size_t i = 1; i < commands.size(); ++i) out << command_section(*commands[i]);
    out << ".SH ENVIRONMENT\n"
        << k_environment << ".SH FILES\n"
        << k_files << ".SH EXIT STATUS\n"
        << k_exit_status << ".SH EXAMPLES\n.nf\n"
        << roff(examples(root)) << "\n.fi\n"
        << ".SH SEE ALSO\nThe guides in \\fI/usr/share/doc/depctl\\fR: getting\\-started.md, "
           "concepts.md, commands.md,\n"
           "deploy.md, ci.md, troubleshooting.md.\n"
        << "Shell completion: \\fBdepctl completion bash|zsh|fish\\fR.\n";
    return out.str();
}

}  // namespace

void register_man(CLI::App& app, Invocation& inv) {
    auto* man = app.add_subcommand("__man", "Print the depctl(1) man page in roff");
    man->group("");  // hidden: the build runs it; users read `man depctl`
    on_run(*man, inv, [&app] {
        std::cout << man_page(app);
        return 0;
    });
}

}  // namespace depctl::cli
