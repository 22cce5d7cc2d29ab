#include "help.hpp"

#include <sstream>

namespace depctl::cli {

std::string HelpFormatter::make_footer(const CLI::App* app) const {
    std::string out;
    if (app->get_parent()) {
        const auto globals = visible_options(root_of(*app), false);
        if (!globals.empty()) {
            out += "Global options (before or after the command):\n";
            for (const CLI::Option* opt : globals) out += make_option(opt, false);
        }
    }
    const std::string footer = app->get_footer();
    if (!footer.empty()) out += footer + "\n";
    return out;
}

const CLI::App& root_of(const CLI::App& app) {
    const CLI::App* root = &app;
    while (root->get_parent()) root = root->get_parent();
    return *root;
}

std::string command_path(const CLI::App& app) {
    std::string path = app.get_name();
    for (const CLI::App* p = app.get_parent(); p; p = p->get_parent())
        path = p->get_name() + " " + path;
    return path;
}

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    std::vector<const CLI::App*> out;
    for (const CLI::App* sub :
         app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
        out.push_back(sub);
    }
    return out;
}

std::vector<const CLI::Option*> visible_options(const CLI::App& app, bool positional) {
    std::vector<const CLI::Option*> out;
    for (const CLI::Option* opt : app.get_options()) {
        if (opt->get_group().empty() || opt == app.get_help_ptr() || opt == app.get_version_ptr())
            continue;
        if (opt->nonpositional() == positional) continue;
        out.push_back(opt);
    }
    return out;
}

std::vector<const CLI::App*> all_commands(const CLI::App& app) {
    std::vector<const CLI::App*> out{&app};
    for (const CLI::App* sub : visible_subcommands(app)) {
        const auto below = all_commands(*sub);
        out.insert(out.end(), below.begin(), below.end());
    }
    return out;
}

}  // namespace depctl::cli
