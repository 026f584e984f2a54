//! Malformed input: located errors with hints; lenient mode turns unknown names into warnings.

use crate::language::{run_err, scratch, HEAD};
use std::path::Path;
use vgrid_dss::{DssError, ReadOptions, Reader};

#[test]
fn unknown_property_is_located_with_a_hint() {
    let e = run_err(&format!(
        "{HEAD}New Line.650632 bus1=a bus2=b\n~ lenght=2000\n"
    ));
    let d = e.diagnostic();
    assert!(matches!(e, DssError::Input(_)));
    assert_eq!((d.file.as_str(), d.line, d.column), ("test.dss", 3, 3));
    assert_eq!(d.element.as_deref(), Some("Line.650632"));
    assert_eq!(d.property.as_deref(), Some("lenght"));
    assert_eq!(d.hint.as_deref(), Some("did you mean 'length'?"));
    assert_eq!(
        e.to_string(),
        "test.dss:3:3: Line.650632: property 'lenght': unknown property of Line (hint: did you mean 'length'?)"
    );
}

#[test]
fn bad_values_point_at_the_value() {
    let e = run_err(&format!("{HEAD}New Load.a kw=ten\n"));
    let d = e.diagnostic();
    assert_eq!((d.line, d.column), (2, 15));
    assert_eq!(d.property.as_deref(), Some("kw"));
    let e = run_err(&format!("{HEAD}New Load.a model=9\n"));
    assert!(e.diagnostic().hint.as_deref().unwrap().contains("1 to 8"));
    let e = run_err(&format!("{HEAD}New Load.a conn=star2\n"));
    assert!(e.diagnostic().hint.as_deref().unwrap().contains("wye"));
    let e = run_err(&format!("{HEAD}New Load.a bus1=x.a\n"));
    assert!(e.to_string().contains("node 'a'"));
    let e = run_err(&format!("{HEAD}New Transformer.t XHL=(1 0 /)\n"));
    assert!(e.to_string().contains("finite"));
    let e = run_err(&format!("{HEAD}New Line.l linecode=nosuch\n"));
    assert!(e.to_string().contains("LineCode.nosuch is not defined"));
}

#[test]
fn unknown_class_command_option_and_object() {
    let e = run_err(&format!("{HEAD}New Trasformer.t\n"));
    assert_eq!(
        e.diagnostic().hint.as_deref(),
        Some("did you mean 'transformer'?")
    );
    let e = run_err("Slove\n");
    assert_eq!(
        e.diagnostic().hint.as_deref(),
        Some("did you mean 'solve'?")
    );
    let e = run_err("Set maxiteratons=10\n");
    assert_eq!(
        e.diagnostic().hint.as_deref(),
        Some("did you mean 'maxiterations'?")
    );
    let e = run_err(&format!("{HEAD}New Load.load1\nEdit Load.laod1 kw=1\n"));
    assert_eq!(
        e.diagnostic().hint.as_deref(),
        Some("did you mean 'load1'?")
    );
    let e = run_err(&format!("{HEAD}Load.lod1.kw=1\n"));
    assert!(e.to_string().contains("does not exist"));
    let e = run_err("~ kw=1\n");
    assert!(e.to_string().contains("no object"));
}

#[test]
fn elements_need_a_circuit() {
    let e = run_err("New Load.a kw=1\n");
    assert!(e.to_string().contains("before any circuit"));
    // general objects are fine
    let mut r = Reader::new(ReadOptions::default());
    r.run_text(
        "New Linecode.a r1=1\nNew Loadshape.s npts=1 mult=[1]\n",
        "t",
        Path::new("."),
        &mut |_, _| Ok(()),
    )
    .unwrap();
}

#[test]
fn lenient_turns_unknown_names_into_warnings() {
    let mut r = Reader::new(ReadOptions {
        lenient: true,
        keep_going: false,
    });
    r.run_text(
        &format!(
            "{HEAD}New Line.l bus1=a lenght=3 length=2\nSet nosuchoption=1\nNew Gizmo.g x=1\n"
        ),
        "t.dss",
        Path::new("."),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(r.network().lines[0].length_m, 2.0);
    let w = r.warnings();
    assert_eq!(w.len(), 3, "{w:?}");
    assert_eq!(w[0].property.as_deref(), Some("lenght"));
    assert_eq!(w[0].line, 2);
}

#[test]
fn keep_going_collects_every_error() {
    let mut r = Reader::new(ReadOptions {
        lenient: false,
        keep_going: true,
    });
    let e = r
        .run_text(
            &format!(
                "{HEAD}New Load.a kw=x\nNew Load.b kw=1\nNew Load.c kv=y\nRedirect missing.dss\n"
            ),
            "t.dss",
            Path::new("."),
            &mut |_, _| Ok(()),
        )
        .unwrap_err();
    assert!(matches!(e, DssError::Many { count: 3, .. }), "{e}");
    let lines: Vec<usize> = r.errors().iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![2, 4, 5]);
    assert_eq!(r.network().loads.len(), 3);
}

#[test]
fn missing_files_and_redirect_cycles() {
    let e = run_err("Redirect nosuchfile.dss\n");
    assert!(matches!(e, DssError::Io(_)));
    assert_eq!((e.diagnostic().line, e.diagnostic().column), (1, 10));
    let d = scratch("cycle");
    std::fs::write(d.join("a.dss"), "redirect b.dss\n").unwrap();
    std::fs::write(d.join("b.dss"), "redirect A.DSS\n").unwrap();
    let mut r = Reader::new(ReadOptions::default());
    let e = r
        .run_file(&d.join("a.dss"), &mut |_, _| Ok(()))
        .unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
    assert!(e.diagnostic().file.ends_with("b.dss"));
    // self-redirect too
    std::fs::write(d.join("self.dss"), "redirect self.dss\n").unwrap();
    assert!(r.run_file(&d.join("self.dss"), &mut |_, _| Ok(())).is_err());
    let e = Reader::new(ReadOptions::default())
        .run_file(&d.join("none.dss"), &mut |_, _| Ok(()))
        .unwrap_err();
    assert!(matches!(e, DssError::Io(_)));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn host_errors_stop_the_script() {
    let mut r = Reader::new(ReadOptions::default());
    let e = r
        .run_text(
            &format!("{HEAD}Solve\nNew Load.after\n"),
            "t.dss",
            Path::new("."),
            &mut |_, _| Err("diverged".into()),
        )
        .unwrap_err();
    assert!(matches!(e, DssError::Host(_)));
    assert_eq!(e.diagnostic().line, 2);
    assert!(r.network().loads.is_empty());
}

#[test]
fn unsupported_commands_are_errors_unless_lenient() {
    let e = run_err(&format!("{HEAD}AllocateLoads\n"));
    assert!(e.to_string().contains("not supported"));
    let mut r = Reader::new(ReadOptions {
        lenient: true,
        keep_going: false,
    });
    r.run_text(
        &format!("{HEAD}AllocateLoads\nHelp\n"),
        "t",
        Path::new("."),
        &mut |_, _| Ok(()),
    )
    .unwrap();
    assert_eq!(r.warnings().len(), 1);
}
