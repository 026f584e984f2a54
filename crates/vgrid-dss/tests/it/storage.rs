//! Storage, StorageController and TShape: OpenDSS's defaults and property side effects.

use crate::language::{run, run_err, HEAD};
use vgrid_model::{StorageChargeMode, StorageDischargeMode, StorageState};

#[test]
fn storage_side_effects_follow_the_property_order() {
    let net = run(&format!(
        "{HEAD}new storage.a bus1=b kwrated=100 kwhrated=400 %stored=30 %reserve=15 kw=-40 pf=0.95
         new storage.b bus1=b kva=80 kwrated=100 kvarmax=30
         new storage.c bus1=b"
    ))
    .into_network();
    let a = &net.storages[0];
    // kWrated sets the kVA; kWhrated fills it; %stored of the new rating; kW<0 charges
    assert_eq!((a.kva, a.kwh_rated, a.kwh_stored), (100.0, 400.0, 120.0));
    assert_eq!(a.kwh_reserve, 60.0);
    assert_eq!(
        (a.state, a.pct_charge, a.pf),
        (StorageState::Charging, 40.0, 0.95)
    );
    assert_eq!(a.kvar_max, 25.0); // OpenDSS: kWrated does not move the kvar limit
    let b = &net.storages[1];
    assert_eq!((b.kva, b.kvar_max, b.kvar_max_abs), (80.0, 30.0, 30.0));
    // never given kWhrated or %reserve: OpenDSS's reserve stays 0
    let c = &net.storages[2];
    assert_eq!(
        (c.kwh_stored, c.kwh_reserve, c.pct_idling_kw),
        (50.0, 0.0, 1.0)
    );
}

#[test]
fn storage_controller_bands_and_modes() {
    let net = run(&format!(
        "{HEAD}new transformer.t buses=[b c] kvs=[12.47 0.4] kvas=[500 500]
         new storage.s1 bus1=c kv=0.4
         new storagecontroller.sc element=transformer.t terminal=1 kwtarget=400 %kwband=5
         ~ modedischarge=peakshave modecharge=peakshavelow kwtargetlow=100 kwbandlow=10
         ~ elementlist=[s1] weights=[2] monphase=avg inhibittime=0
         new storagecontroller.sd element=transformer.t kwband=20 kwtarget=300"
    ))
    .into_network();
    let c = &net.storage_controllers[0];
    assert_eq!(c.element.as_ref().unwrap().to_string(), "Transformer.t");
    assert_eq!((c.half_kw_band, c.half_kw_band_low), (10.0, 5.0));
    assert_eq!(c.mode_discharge, StorageDischargeMode::PeakShave);
    assert_eq!(c.mode_charge, StorageChargeMode::PeakShaveLow);
    assert_eq!(
        (c.elements.clone(), c.weights.clone()),
        (vec!["s1".to_string()], vec![2.0])
    );
    assert_eq!((c.mon_phase, c.inhibit_time_h), (-1, 1));
    // kWBand given first is a % of the default target (8000 kW): 20 kW is 0.25 %, of 300 kW
    // then 0.75 kW; OpenDSS keeps the percentage
    let d = &net.storage_controllers[1];
    assert!((d.half_kw_band - 0.375).abs() < 1e-12, "{}", d.half_kw_band);
    let e = run_err(&format!(
        "{HEAD}new storagecontroller.x modedischarge=sometimes"
    ));
    assert!(e.to_string().contains("discharge mode"), "{e}");
}

#[test]
fn tshape_and_pv_temperature_shapes() {
    let net = run(&format!(
        "{HEAD}new tshape.t npts=3 sinterval=1800 temp=[10 20 30]
         new pvsystem.p bus1=b tdaily=t tyearly=t"
    ))
    .into_network();
    let t = net.t_shape("t").unwrap();
    assert_eq!(
        (t.p_mult.clone(), t.interval_h),
        (vec![10.0, 20.0, 30.0], Some(0.5))
    );
    assert_eq!(net.pv_systems[0].t_daily.as_deref(), Some("t"));
    let e = run_err(&format!("{HEAD}new pvsystem.p bus1=b tyearly=nope"));
    assert!(e.to_string().contains("TShape.nope"), "{e}");
}
