function __vigia_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __vigia_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __vigia_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __vigia_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __vigia_parse_tokens -S
    set -l unparsed_tokens (__vigia_tokens -pc)
    switch $unparsed_tokens[1]
    case 'vigia'
        __vigia_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'serve'
            __vigia_parse_subcommand 0 'config=' 'host=' 'port=' 'storage=' 'event-loops=' 'log-level=' 'version' 'h/help'
        case 'train'
            __vigia_parse_subcommand 0 'data=' 'storage=' 'name=' 'algorithm=' 'config=' 'seed=' 'dataset-name=' 'dataset-version=' 'force' 'version' 'h/help'
        case 'evaluate'
            __vigia_parse_subcommand 0 'model=' 'data=' 'label=' 'split=' 'config=' 'robustness' 'disguise-seed=' 'report=' 'json=' 'metrics=' 'version' 'h/help'
        case 'validate'
            __vigia_parse_subcommand 1 'version' 'h/help'
        case 'predict'
            __vigia_parse_subcommand 0 'model=' 'input=' 'keep-going' 'threads=' 'progress' 'version' 'h/help'
        case 'model-card'
            __vigia_parse_subcommand 0 'model=' 'metrics=' 'threshold-rule=' 'data-note=' 'setting=+' 'output=' 'version' 'h/help'
        case 'config'
            __vigia_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'check'
                __vigia_parse_subcommand 0 'config=' 'host=' 'port=' 'storage=' 'event-loops=' 'log-level=' 'version' 'h/help'
            case 'config-keys'
                __vigia_parse_subcommand 0 'version' 'h/help'
            end
        case 'config-keys'
            __vigia_parse_subcommand 0 'version' 'h/help'
        case 'help'
            __vigia_parse_subcommand -r 1 'version'
        end
    end
end

function __vigia_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __vigia_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __vigia_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __vigia_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__vigia_tokens -p)
    if test -z "$(__vigia_tokens -t)"
        set -l index (count (__vigia_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'vigia' -f
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'serve' -d 'Serve the models in the storage directory over HTTP.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'train' -d 'Train a model from a CSV and publish it as the next version in the storage directory.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'evaluate' -d 'Score a labelled CSV with a published model version and print its metrics at the model\'s threshold.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'validate' -d 'Check that a model version directory loads: manifest, checksums, example. Exits 1 with the precise error otherwise.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'predict' -d 'Score listings from a JSON Lines file; writes {"id","score","label","threshold"} per line to stdout.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'model-card' -d 'Write a version\'s model card (Markdown) from its manifest and an optional evaluation report JSON.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'config' -d 'Check the configuration or list its keys.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'config-keys' -d 'List every configuration key (Markdown table); also `vigia config keys`.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" config' -l 'config' -d 'Configuration file (JSON). Default: config/vigia.json when it exists.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" host' -l 'host' -d 'Listen address (server.host).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" port' -l 'port' -d 'TCP port; 0 picks a free one (server.port).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" storage' -l 'storage' -d 'Model storage directory (storage.path).' -rfa '(__vigia_complete_directories)'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" event-loops' -l 'event-loops' -d 'Event-loop threads; 0 = one per core (server.event_loops).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" log-level' -l 'log-level' -d 'One of trace, debug, info, notice, warning, error, critical (logging.level).' -rfka 'trace debug info notice warning error critical'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" data' -l 'data' -d 'The listings CSV (header: id,site_id,title,category_id,price_usd,seller_age_days,seller_sales,seller_reputation,is_prohibited,family).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'csv\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" storage' -l 'storage' -d 'The storage directory; versions go to <storage>/<name>/<version>.' -rfa '(__vigia_complete_directories)'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" name' -l 'name' -d 'The model name.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" algorithm' -l 'algorithm' -d 'logistic_regression, linear_svm, multinomial_nb (overrides the config file).' -rfka 'logistic_regression linear_svm multinomial_nb'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" config' -l 'config' -d 'A training config: a JSON file, or a YAML parameters file whose train member holds the same keys (e.g. params.yaml).' -rfa '(set -l exts \'json\' \'yaml\' \'yml\';for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.{$exts};printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" seed' -l 'seed' -d 'Seed of the split, the folds and the SVM order (overrides the config file; default 42).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" dataset-name' -l 'dataset-name' -d 'The dataset name recorded in the artifact (default: the CSV\'s base name).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" dataset-version' -l 'dataset-version' -d 'The dataset version recorded in the artifact.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" force' -l 'force' -d 'Publish even when the new model\'s PR-AUC is below the latest published version\'s.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia train" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" model' -l 'model' -d 'A version directory, e.g. models/prohibited-items/1.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" data' -l 'data' -d 'A CSV with the model\'s input columns and the label column, or a JSON Lines file (.jsonl) of listings, each with the label member.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" label' -l 'label' -d 'The 0/1 label column (JSON Lines: member, 0/1 or false/true).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" split' -l 'split' -d 'all: every row; test: the rows vigia train held out with --config (the evaluation split).' -rfka 'all test'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" config' -l 'config' -d 'The training config whose split --split test reproduces (default: the built-in defaults).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" robustness' -l 'robustness' -d 'Also score the rows with every longer word of the text fields disguised (leetspeak, separated letters, repeats, homoglyphs, split words) and print recall and false alarms per disguise.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" disguise-seed' -l 'disguise-seed' -d 'Seed of the disguises (--robustness, and the report\'s robustness section).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" report' -l 'report' -d 'Write the evaluation report as HTML to this file.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'html\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" json' -l 'json' -d 'Write the evaluation report as JSON to this file.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" metrics' -l 'metrics' -d 'Also write the metrics (and the robustness rows) as a JSON object with sorted keys to this file (the pipeline\'s metrics file).' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia evaluate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia validate" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia validate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" model' -l 'model' -d 'A version directory, e.g. models/prohibited-items/1.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" input' -l 'input' -d 'A JSON Lines file of listings (one object a line), or - for stdin.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" keep-going' -l 'keep-going' -d 'Report a bad line on stderr and go on with the next (exit status 1 at the end); by default the first bad line stops the run.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" threads' -l 'threads' -d 'Scoring threads (default: one per online core).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" progress' -l 'progress' -d 'Write `predict: N rows, R rows/s` to stderr every second and a summary line at the end.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia predict" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" model' -l 'model' -d 'A version directory, e.g. models/prohibited-items/1.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" metrics' -l 'metrics' -d 'An evaluation report written by `vigia evaluate --json`.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" threshold-rule' -l 'threshold-rule' -d 'How the threshold was chosen, in words.' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" data-note' -l 'data-note' -d 'Where the training data comes from (say so when it is synthetic).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card"' -l 'setting' -d 'A setting to list under training configuration, as key=value (repeatable).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" output' -l 'output' -d 'The Markdown file to write.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'md\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia model-card" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia config" -eq 1' -fa 'check' -d 'Print the effective configuration and where each value came from (file, environment, flag, default).'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_positional "vigia config" -eq 1' -fa 'config-keys' -d 'List every configuration key (Markdown table); also `vigia config keys`.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" config' -l 'config' -d 'Configuration file (JSON). Default: config/vigia.json when it exists.' -rfa '(for p in (string match -e -- \'*/\' (commandline -t);or printf \n)*.\'json\';printf %s\n $p;end;__fish_complete_directories (commandline -t) \'\')'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" host' -l 'host' -d 'Listen address (server.host).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" port' -l 'port' -d 'TCP port; 0 picks a free one (server.port).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" storage' -l 'storage' -d 'Model storage directory (storage.path).' -rfa '(__vigia_complete_directories)'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" event-loops' -l 'event-loops' -d 'Event-loop threads; 0 = one per core (server.event_loops).' -rfka ''
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" log-level' -l 'log-level' -d 'One of trace, debug, info, notice, warning, error, critical (logging.level).' -rfka 'trace debug info notice warning error critical'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config check" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config config-keys" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config config-keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config-keys" version' -l 'version' -d 'Show the version.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia config-keys" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'vigia' -n '__vigia_should_offer_completions_for_flags_or_options "vigia help" version' -l 'version' -d 'Show the version.'
